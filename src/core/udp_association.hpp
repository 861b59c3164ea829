// UdpAssociation: a UDP socket's SOCKS5 UDP ASSOCIATE (RFC 1928 §7): the TCP
// control connection, which the association lives as long as, and the relay's
// UDP address that datagrams go to and must come from.
//
// One per socket, shared by its dup'd descriptors through their FdState,
// opened on the first datagram to a proxied destination (or connect()), closed
// with the socket's last descriptor (release_udp_association). Fields are
// written once before the association is published, except the atomics.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>

#include "base/endpoint.hpp"
#include "base/result.hpp"

namespace socksify {

struct FdState;

// A connected UDP socket's destination through the relay. Immutable once
// published: connect() publishes a new one and keeps the old until the
// association dies, so a thread sending concurrently never reads a torn one.
struct UdpPeer {
  Endpoint target;                  // what datagram headers name (a host name for a fake address)
  Endpoint filter;                  // the IP replies must come from; None for a name (any source)
  sockaddr_storage program_addr{};  // as the program passed it: recvfrom reports this
  socklen_t program_len = 0;
  UdpPeer* older = nullptr;
};

struct UdpAssociation {
  // Ours, not the program's (src/core/own_fds.hpp): atomic because the
  // registry moves it when the program dup2()s onto its number.
  std::atomic<int> control_fd{-1};
  int family = AF_INET;  // the UDP socket's family
  // The relay, in the form recvmsg reports sources on this socket (v4-mapped
  // on AF_INET6 sockets).
  sockaddr_storage relay{};
  socklen_t relay_len = 0;
  Endpoint proxy;         // the proxy's address, for log lines
  std::size_t group = 0;  // the route group (core/route.hpp) whose proxy holds it
  // The header length the next datagram from the relay is expected to carry,
  // learned from the last one (10 IPv4, 22 IPv6, 7+n names).
  std::atomic<std::uint16_t> expected_header{10};
  // The proxy closed the control connection: the relay is gone for good.
  std::atomic<bool> dead{false};
  // When the control connection is next looked at (CLOCK_MONOTONIC ns).
  std::atomic<std::int64_t> next_check_ns{0};
  std::atomic<const UdpPeer*> peer{nullptr};  // connected through the relay
  UdpPeer* peers = nullptr;                   // every peer published (owned)
  // When the proxy ended it: the earliest time (CLOCK_MONOTONIC ns) another
  // association may be tried in its place (under UdpState::open_lock).
  std::int64_t next_attempt_ns = 0;
  // The dead association this one replaced, kept until the socket closes: a
  // thread still sending through it reads it, never a recycled one.
  UdpAssociation* older = nullptr;
  UdpAssociation* next_free = nullptr;  // pool link (udp_association.cpp)
};

// The socket's association, opened now when it has none. `dst` is the
// destination the program is reaching, for the one log line on failure.
// Not noexcept, nor what follows: opening one connects to the proxy (a
// cancellation point), and pthread_cancel's unwind must pass (the lock is
// released by RAII).
Result<UdpAssociation*> udp_association_for(int fd, FdState& state, const Endpoint& dst);

// The association a datagram to dst goes through now: the socket's, opened
// when it has none, and opened anew when the proxy ended the last one (it
// restarted, or dropped the control connection): datagrams sent meanwhile are
// lost, never sent around the proxy (issue 14 item 11). A connected socket is
// connected to the new relay and keeps its peer. While the proxy cannot be
// reached a new one is tried at most every kReassociateEvery; sends in
// between fail with ECONNRESET, the attempt itself with its own errno.
Result<UdpAssociation*> udp_live_association(int fd, FdState& state, const Endpoint& dst);

// Whether the association still stands: a dead control connection (the proxy
// closed it, or it failed) means the relay is gone; the first call to notice
// logs one line, and every call returns ECONNRESET from then on.
Status udp_association_alive(UdpAssociation& a, const Endpoint& dst) noexcept;

// In a forked child: the association pool's lock may have been held by another
// thread of the parent at the fork.
void udp_pool_reset_in_child() noexcept;

// Publishes a connected peer (under UdpState::open_lock), or clears it (nullptr
// target: AF_UNSPEC dissolved the connection).
Status udp_set_peer(FdState& state, UdpAssociation& a, const Endpoint* target,
                    const sockaddr* program_addr, socklen_t program_len) noexcept;

}  // namespace socksify
