// Where a connection or datagram goes: straight to libc, through a proxy group
// (to an address or, for a remote-DNS fake address, to the name behind it),
// or nowhere (fail closed: a `block` rule, a forgotten fake address).
#pragma once

#include <cstddef>

#include "base/endpoint.hpp"
#include "config/rules.hpp"

namespace socksify {

class Runtime;

struct Route {
  enum class Kind : std::uint8_t { Direct, Proxy, Refuse };
  Kind kind = Kind::Proxy;
  Endpoint target;              // Proxy: what the proxy is asked to reach
  int error = 0;                // Refuse: errno for the program
  std::size_t group = 0;        // Proxy: the route group (0: the unnamed list)
  std::size_t rule = kNoRoute;  // the `route` line that decided, if one did
};

// Logs one line when it refuses.
Route route_for(const Runtime& rt, const Endpoint& dst) noexcept;

// The group a proxied target goes to (route_for's group for a destination it
// sends to a proxy; 0 for anything else). The session asks it again rather
// than being handed it: the connect path stays as it was.
std::size_t route_group_for(const Runtime& rt, const Endpoint& target) noexcept;

// The -v line of a connect that went direct or was refused (a proxied one is
// traced by its session). error: the connect's errno, 0 for success.
void trace_unproxied(const Runtime& rt, const Endpoint& dst, const Route& route, int error,
                     std::int64_t ms) noexcept;

}  // namespace socksify
