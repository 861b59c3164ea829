#include "base/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "base/v4_mapped.hpp"

namespace socksify {

Endpoint Endpoint::ipv4(std::span<const std::uint8_t, 4> addr, std::uint16_t port) {
  Endpoint e;
  e.kind_ = Kind::IPv4;
  e.port_ = port;
  std::memcpy(e.data_.data(), addr.data(), 4);
  return e;
}

Endpoint Endpoint::ipv6(std::span<const std::uint8_t, 16> addr, std::uint16_t port) {
  Endpoint e;
  e.kind_ = Kind::IPv6;
  e.port_ = port;
  std::memcpy(e.data_.data(), addr.data(), 16);
  return e;
}

std::optional<Endpoint> Endpoint::name(std::string_view host, std::uint16_t port) {
  if (host.empty() || host.size() > kMaxNameLength) return std::nullopt;
  Endpoint e;
  e.kind_ = Kind::Name;
  e.port_ = port;
  e.name_len_ = static_cast<std::uint8_t>(host.size());
  std::memcpy(e.data_.data(), host.data(), host.size());
  return e;
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof in);
    std::array<std::uint8_t, 4> a;
    std::memcpy(a.data(), &in.sin_addr, 4);
    return ipv4(a, ntohs(in.sin_port));
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    std::array<std::uint8_t, 16> a;
    std::memcpy(a.data(), &in6.sin6_addr, 16);
    return ipv6(a, ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

std::span<const std::uint8_t> Endpoint::address() const {
  const auto* p = reinterpret_cast<const std::uint8_t*>(data_.data());
  if (kind_ == Kind::IPv4) return {p, 4};
  if (kind_ == Kind::IPv6) return {p, 16};
  return {};
}

std::string_view Endpoint::host_name() const {
  if (kind_ != Kind::Name) return {};
  return {data_.data(), name_len_};
}

Endpoint Endpoint::unmapped() const {
  if (kind_ == Kind::IPv6 && is_v4_mapped(address())) {
    return ipv4(std::span<const std::uint8_t, 4>(address().data() + 12, 4), port_);
  }
  return *this;
}

Endpoint Endpoint::v4_mapped() const {
  if (kind_ != Kind::IPv4) return *this;
  return ipv6(to_v4_mapped(address().first<4>()), port_);
}

bool Endpoint::is_loopback() const {
  const Endpoint e = unmapped();
  const auto a = e.address();
  if (e.kind_ == Kind::IPv4) return a[0] == 127;
  if (e.kind_ == Kind::IPv6) {
    return std::all_of(a.begin(), a.begin() + 15, [](std::uint8_t b) { return b == 0; }) &&
           a[15] == 1;
  }
  return false;
}

bool Endpoint::is_unspecified() const {
  const auto a = address();
  return is_ip() && std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof out);
  if (kind_ == Kind::IPv4) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port_);
    std::memcpy(&in.sin_addr, data_.data(), 4);
    std::memcpy(&out, &in, sizeof in);
    return sizeof in;
  }
  if (kind_ == Kind::IPv6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port_);
    std::memcpy(&in6.sin6_addr, data_.data(), 16);
    std::memcpy(&out, &in6, sizeof in6);
    return sizeof in6;
  }
  return 0;
}

bool operator==(const Endpoint& a, const Endpoint& b) {
  if (a.kind_ != b.kind_ || a.port_ != b.port_) return false;
  if (a.kind_ == Endpoint::Kind::Name) return a.host_name() == b.host_name();
  const auto x = a.address();
  const auto y = b.address();
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

}  // namespace socksify

fmt::format_context::iterator fmt::formatter<socksify::Endpoint>::format(
    const socksify::Endpoint& ep, fmt::format_context& ctx) const {
  using Kind = socksify::Endpoint::Kind;
  char buf[INET6_ADDRSTRLEN] = "?";
  switch (ep.kind()) {
    case Kind::IPv4:
      inet_ntop(AF_INET, ep.address().data(), buf, sizeof buf);
      return fmt::format_to(ctx.out(), "{}:{}", buf, ep.port());
    case Kind::IPv6:
      inet_ntop(AF_INET6, ep.address().data(), buf, sizeof buf);
      return fmt::format_to(ctx.out(), "[{}]:{}", buf, ep.port());
    case Kind::Name:
      return fmt::format_to(ctx.out(), "{}:{}", ep.host_name(), ep.port());
    case Kind::None:
      break;
  }
  return fmt::format_to(ctx.out(), "(none)");
}
