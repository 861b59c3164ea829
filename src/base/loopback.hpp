// The loopback address of a family, for the sockets socksify itself opens
// there (the DNS answer injector, the DNS intercept's TCP listener).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>

#include "base/endpoint.hpp"

namespace socksify {

// 127.0.0.1 or ::1 with port 0 (bind picks one) into out; returns its length.
inline socklen_t loopback_sockaddr(bool ipv6, sockaddr_storage& out) {
  constexpr std::array<std::uint8_t, 4> kV4 = {127, 0, 0, 1};
  constexpr std::array<std::uint8_t, 16> kV6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return (ipv6 ? Endpoint::ipv6(kV6, 0) : Endpoint::ipv4(kV4, 0)).to_sockaddr(out);
}

}  // namespace socksify
