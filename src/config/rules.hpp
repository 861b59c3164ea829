// Which destinations bypass the proxy. Called inside connect() and sendto(),
// so it is pure, allocation-free and takes no lock.
#pragma once

#include "base/endpoint.hpp"
#include "config/direct_rule.hpp"
#include "config/settings.hpp"

namespace socksify {

// True when dst should be reached directly rather than through the proxy:
// - with settings.direct_loopback: loopback addresses (127/8, ::1, v4-mapped
//   127/8), the unspecified address (Linux connects 0.0.0.0 / :: to the local
//   host) and the names "localhost" and "*.localhost" (RFC 6761 §6.3);
// - any rule in settings.direct_rules that matches (see rule_matches).
// A fake remote-DNS address is just an address here: callers translate it
// back to its name first if name rules should apply.
bool is_direct(const Settings& settings, const Endpoint& dst);

// Network rules match addresses (v4-mapped IPv6 as IPv4) and names that are
// IP literals; name rules match names case-insensitively, ignoring one final
// dot (".example.test" matches "example.test" and "a.example.test", not
// "badexample.test"); a rule's port, when set, must equal dst's port.
bool rule_matches(const DirectRule& rule, const Endpoint& dst);

}  // namespace socksify
