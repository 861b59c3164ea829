#include "core/udp_address.hpp"

#include <netinet/in.h>

#include <cstring>

namespace socksify {

socklen_t sockaddr_in_family(const Endpoint& ip, int family, sockaddr_storage& out) noexcept {
  if (!ip.is_ip()) return 0;
  const Endpoint plain = ip.unmapped();
  if (family == AF_INET) {
    return plain.kind() == Endpoint::Kind::IPv4 ? plain.to_sockaddr(out) : 0;
  }
  if (family != AF_INET6) return 0;
  return plain.v4_mapped().to_sockaddr(out);
}

Endpoint associate_request_address(const Endpoint& bound, bool want_ipv6_relay) noexcept {
  static constexpr std::uint8_t kZero[16] = {};
  if (!bound.is_ip() || bound.is_unspecified()) {
    return want_ipv6_relay
               ? Endpoint::ipv6(kZero, bound.port())
               : Endpoint::ipv4(std::span<const std::uint8_t, 4>(kZero, 4), bound.port());
  }
  return bound.unmapped();
}

bool is_relay_address(const sockaddr_storage& from, socklen_t from_len,
                      const sockaddr_storage& relay) noexcept {
  if (from.ss_family != relay.ss_family) return false;
  if (from.ss_family == AF_INET && from_len >= sizeof(sockaddr_in)) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(from);
    const auto& b = reinterpret_cast<const sockaddr_in&>(relay);
    return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
  }
  if (from.ss_family == AF_INET6 && from_len >= sizeof(sockaddr_in6)) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(from);
    const auto& b = reinterpret_cast<const sockaddr_in6&>(relay);
    return a.sin6_port == b.sin6_port &&
           std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
  }
  return false;
}

std::size_t udp_header_size(const Endpoint& ep) noexcept {
  switch (ep.kind()) {
    case Endpoint::Kind::IPv4:
      return 10;
    case Endpoint::Kind::IPv6:
      return 22;
    case Endpoint::Kind::Name:
      return 7 + ep.host_name().size();
    case Endpoint::Kind::None:
      break;
  }
  return 0;
}

}  // namespace socksify
