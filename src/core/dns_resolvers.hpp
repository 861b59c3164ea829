// The system's resolvers as this process sees them now: /etc/resolv.conf read
// on the first DNS-port destination (never at start-up), and again when the
// file changes (NetworkManager, a VPN, dhclient rewrite it), as glibc does.
#pragma once

#include "base/endpoint.hpp"

namespace socksify {

// True when dst (port 53) is a resolver of resolv.conf, 127.0.0.53, or the
// loopback defaults (dns/system_resolvers.hpp). Costs one port comparison for
// every other port. Thread-safe.
bool is_system_resolver(const Endpoint& dst) noexcept;

// fork: the cache's lock made anew in the child.
void dns_resolvers_reset_in_child() noexcept;

}  // namespace socksify
