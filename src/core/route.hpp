// Where a connection or datagram goes: straight to libc, through the proxy (to
// an address or, for a remote-DNS fake address, to the name behind it), or
// nowhere (fail closed).
#pragma once

#include "base/endpoint.hpp"

namespace socksify {

class Runtime;

struct Route {
  enum class Kind : std::uint8_t { Direct, Proxy, Refuse };
  Kind kind = Kind::Proxy;
  Endpoint target;  // Proxy: what the proxy is asked to reach
  int error = 0;    // Refuse: errno for the program
};

Route route_for(const Runtime& rt, const Endpoint& dst) noexcept;

}  // namespace socksify
