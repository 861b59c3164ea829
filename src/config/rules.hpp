// Which destinations bypass the proxy. Called inside connect() and sendto(),
// so it is pure, allocation-free and takes no lock.
#pragma once

#include <cstddef>
#include <span>

#include "base/endpoint.hpp"
#include "config/direct_rule.hpp"
#include "config/route_rules.hpp"
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

// The index of the first route rule whose destination matches dst (as
// rule_matches), or kNoRoute. Allocation-free.
inline constexpr std::size_t kNoRoute = static_cast<std::size_t>(-1);
std::size_t first_route(std::span<const RouteRule> routes, const Endpoint& dst);

// What the rules say for a destination the proxy would be asked for (for a
// remote-DNS address, the name behind it): in order, loopback and the `direct`
// rules (is_direct; shorthand for `route X via direct` lines placed first),
// then the first matching `route` line, else the unnamed proxy list (group 0).
// A .onion name never goes direct: direct rules and `via direct` lines pass
// it by (a `block` still blocks it).
struct RouteChoice {
  RouteRule::Action action = RouteRule::Action::Via;
  std::size_t group = 0;        // Via: the route group
  std::size_t rule = kNoRoute;  // the matching `route` line, kNoRoute for none
  bool direct_rule = false;     // Direct because of loopback or a `direct` rule
};
RouteChoice choose_route(const Settings& settings, const Endpoint& dst);

}  // namespace socksify
