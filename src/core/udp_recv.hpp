// Datagrams in on the UDP sockets socksify tracks (FdState::Kind::Udp): the
// logic behind recvfrom/recvmsg/recvmmsg/recv/read/readv (defined in
// udp_recv.cpp; the sends are in udp_send.hpp). Plain C++ below the hooks:
// each function returns a byte or message count, or the errno for the program,
// and passes the call through to libc where socksify has nothing to do (an
// unassociated socket's receive, a socket connected straight to a peer).
#pragma once

#include <sys/socket.h>
#include <time.h>

#include <cstddef>

#include "base/result.hpp"

namespace socksify {

struct FdState;

// Datagram in, header stripped with scatter/gather into the program's buffers;
// datagrams not from the relay, or fragments, are dropped (and the next one is
// awaited as the socket's blocking mode and timeout say, never longer than the
// program's own wait: see DropWait in udp_recv.cpp). Returns what the kernel
// would: the payload length (its full length with MSG_TRUNC).
// The receives are not noexcept, nor is anything below them: they block in
// cancellation points (recvmsg, ppoll), and pthread_cancel's forced unwind
// must pass through to the program's cleanup handlers (guarded() in
// shim/export.hpp lets it on); nothing is locked across them.
Result<std::size_t> udp_recvmsg(int fd, FdState& s, msghdr& msg, int flags);

Result<unsigned> udp_recvmmsg(int fd, FdState& s, mmsghdr* msgs, unsigned n, int flags,
                              timespec* timeout);

// True when receives on the socket need the header stripped (it is associated
// and not connected straight to a peer).
bool udp_receives_from_relay(const FdState& s) noexcept;

}  // namespace socksify
