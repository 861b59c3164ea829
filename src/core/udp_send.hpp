// Datagrams out on the UDP sockets socksify tracks (FdState::Kind::Udp): the
// logic behind sendto/sendmsg/sendmmsg/send/write/writev (defined in
// udp_send.cpp; the receives are in udp_recv.hpp). Plain C++ below the hooks:
// each function returns a byte or message count, or the errno for the program,
// and passes the call through to libc where socksify has nothing to do (a
// destination routed Direct, a socket connected straight to a peer).
#pragma once

#include <sys/socket.h>

#include <cstddef>

#include "base/result.hpp"

namespace socksify {

struct FdState;

// RFC 1928 §7 datagram out: [header, the program's iovecs...] to the relay, in
// one sendmsg (the payload is never copied). Returns the payload length sent.
// Not noexcept: sendmsg and opening an association are cancellation points.
Result<std::size_t> udp_sendmsg(int fd, FdState& s, const msghdr& msg, int flags);

// sendmmsg: one datagram at a time; msg_len of each sent one is filled in.
// Returns how many were sent (an error only when the first one failed).
Result<unsigned> udp_sendmmsg(int fd, FdState& s, mmsghdr* msgs, unsigned n, int flags);

// True when a send without a destination (send/write) has a proxied peer.
bool udp_has_proxied_peer(const FdState& s) noexcept;

}  // namespace socksify
