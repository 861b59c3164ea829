// DNS interception (issue 10 item 2): under remote DNS (socks5h), the queries a
// program sends itself to the system's resolvers (dns_resolvers.hpp) never
// leave, not directly and not through the proxy's UDP relay; the DNS stub
// (dns/dns_stub.hpp) answers them from the remote-DNS table, and questions it
// cannot answer go to the configured dns_upstream through the proxy
// (dns_upstream.hpp) or get an empty NOERROR answer.
//
// UDP: the query is consumed in the send call, the answer is a real datagram
// sent from socksify's loopback injector into the program's socket
// (dns_injector.hpp), and receives report the resolver as its source. A socket
// connect()ed to a resolver is connected to the injector (getpeername still
// names the resolver), so even a send that bypassed our hooks could only reach
// the injector.
// TCP: connect() to a resolver connects the program's socket to a one-shot
// loopback listener of ours; we keep the accepted end, read each
// length-framed query after the program's write, and write the answers back
// into the stream.
//
// This file owns DnsSocket, the DNS part of a socket's state (FdState::dns):
// nothing else reads its fields.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>

#include "base/result.hpp"

namespace socksify {

struct FdState;
struct DnsSocket;  // dns_intercept.cpp

// --- UDP (FdState::Kind::Udp) ---

// A datagram the program sends (msg_name, or no address on a socket connected
// to a resolver): answered here when it is for a system resolver under remote
// DNS; nullopt leaves it to the UDP code.
std::optional<Result<std::size_t>> dns_udp_send(int fd, FdState& s, const msghdr& msg, int flags);

// connect() of a UDP socket: to a system resolver under remote DNS, connected
// to the injector (nullopt otherwise, after forgetting an earlier DNS peer, so
// AF_UNSPEC and a connect elsewhere end it).
std::optional<Status> dns_udp_connect(int fd, FdState& s, const sockaddr* addr, socklen_t len);

// The socket is connected to a resolver: send/write without address are queries.
bool dns_udp_connected(const FdState& s) noexcept;
// Answers may arrive on the socket: its receives need the source rewritten.
bool dns_udp_active(const FdState& s) noexcept;
// After a receive that filled msg_name: a datagram from the injector reports
// the resolver the query went to instead.
void dns_udp_received(const FdState& s, msghdr& msg) noexcept;

// --- TCP (FdState::Kind::DnsTcp) ---

// connect() of a TCP socket to a system resolver under remote DNS: connected
// to our listener, with an FdState of kind DnsTcp. nullopt: not ours.
std::optional<Status> dns_tcp_connect(int fd, const sockaddr* addr, socklen_t len);

// After the program's write/send of `sent` bytes (the real call's result) on a
// DnsTcp socket: the queries complete so far are answered. Returns `sent`;
// errno untouched.
ssize_t dns_tcp_sent(FdState& s, ssize_t sent) noexcept;

// --- lifecycle ---

// (release_dns_socket and dns_socket_reset_in_child, the DNS part's life, are
// declared in dns_state.hpp.)

// In a forked child (one thread): locks another thread of the parent held at
// the fork are made anew (the resolv.conf cache's, the injector's; each
// socket's own through FdState::reset_in_child).
void dns_intercept_reset_in_child() noexcept;

}  // namespace socksify
