// Connected UDP through the proxy in the supervised mode: the program's data
// path (write/read on its connected socket) is never trapped, so its socket
// is connected to a relay of the supervisor's on 127.0.0.1 instead of the
// destination; the relay holds a UDP ASSOCIATE with the proxy (RFC 1928 §7,
// the library's session) and carries each datagram both ways, adding and
// removing the SOCKS5 UDP header. Only the program's socket may use a relay
// (datagrams from any other source are dropped), and only datagrams from the
// destination are handed back (connected semantics). A relay ends when the
// proxy closes the association, or after kIdle without a datagram (the
// supervisor cannot see the program close its socket).
#pragma once

#include <chrono>

#include "base/endpoint.hpp"
#include "base/result.hpp"

namespace socksify {
class Runtime;
}

namespace socksify::supervisor {

inline constexpr std::chrono::seconds kUdpRelayIdle{120};
inline constexpr int kMaxUdpRelays = 256;

// Opens the association for `dst` (as route_for named it: an address, or a
// name behind a fake address), starts the relay and connects the program's
// socket (`copy`, of `family`) to it. The errno is the program's connect's.
Status connect_through_udp_relay(const Runtime& rt, int copy, int family, const Endpoint& dst);

}  // namespace socksify::supervisor
