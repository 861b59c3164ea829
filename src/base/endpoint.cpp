#include "base/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "base/v4_mapped.hpp"

namespace socksify {

namespace {

// Where sockaddr_in and sockaddr_in6 keep what an Endpoint holds, so that one
// reader and one writer serve both families. Both start with sa_family.
struct Layout {
  Endpoint::Kind kind;
  sa_family_t family;
  socklen_t size;
  std::size_t port_at;
  std::size_t addr_at;
  std::size_t addr_size;
};
constexpr std::array<Layout, 2> kLayouts = {{
    {Endpoint::Kind::IPv4, AF_INET, sizeof(sockaddr_in), offsetof(sockaddr_in, sin_port),
     offsetof(sockaddr_in, sin_addr), sizeof(in_addr)},
    {Endpoint::Kind::IPv6, AF_INET6, sizeof(sockaddr_in6), offsetof(sockaddr_in6, sin6_port),
     offsetof(sockaddr_in6, sin6_addr), sizeof(in6_addr)},
}};

const Layout* layout_of(Endpoint::Kind kind) {
  for (const Layout& l : kLayouts) {
    if (l.kind == kind) return &l;
  }
  return nullptr;
}

}  // namespace

Endpoint Endpoint::ip(Kind kind, const void* addr, std::size_t size, std::uint16_t port) {
  Endpoint e;
  e.kind_ = kind;
  e.port_ = port;
  std::memcpy(e.data_.data(), addr, size);
  return e;
}

Endpoint Endpoint::ipv4(std::span<const std::uint8_t, 4> addr, std::uint16_t port) {
  return ip(Kind::IPv4, addr.data(), addr.size(), port);
}

Endpoint Endpoint::ipv6(std::span<const std::uint8_t, 16> addr, std::uint16_t port) {
  return ip(Kind::IPv6, addr.data(), addr.size(), port);
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
  for (const Layout& l : kLayouts) {
    if (sa->sa_family != l.family || len < l.size) continue;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(sa);
    in_port_t port;
    std::memcpy(&port, bytes + l.port_at, sizeof port);
    return ip(l.kind, bytes + l.addr_at, l.addr_size, ntohs(port));
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
  const Layout* l = layout_of(kind_);
  if (l == nullptr) return 0;
  auto* bytes = reinterpret_cast<std::uint8_t*>(&out);
  const sa_family_t family = l->family;
  const in_port_t port = htons(port_);
  std::memcpy(bytes + offsetof(sockaddr, sa_family), &family, sizeof family);
  std::memcpy(bytes + l->port_at, &port, sizeof port);
  std::memcpy(bytes + l->addr_at, data_.data(), l->addr_size);
  return l->size;
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
