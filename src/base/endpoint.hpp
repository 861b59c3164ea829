// Endpoint: where a connection or datagram goes, an IPv4/IPv6 address or a host
// name, plus a port. Fixed size and allocation-free, because it is built inside
// interposed calls (RFC 1928 §5 caps a name at 255 bytes, which sets the size).
#pragma once

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace socksify {

class Endpoint {
 public:
  enum class Kind : std::uint8_t { None, IPv4, IPv6, Name };
  static constexpr std::size_t kMaxNameLength = 255;

  Endpoint() = default;
  static Endpoint ipv4(std::span<const std::uint8_t, 4> addr, std::uint16_t port);
  static Endpoint ipv6(std::span<const std::uint8_t, 16> addr, std::uint16_t port);
  // nullopt for an empty name or one longer than 255 bytes.
  static std::optional<Endpoint> name(std::string_view host, std::uint16_t port);
  // AF_INET / AF_INET6 only (a v4-mapped IPv6 address stays IPv6).
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len);

  Kind kind() const { return kind_; }
  bool is_ip() const { return kind_ == Kind::IPv4 || kind_ == Kind::IPv6; }
  std::uint16_t port() const { return port_; }  // host byte order
  void set_port(std::uint16_t port) { port_ = port; }
  // 4 or 16 bytes for addresses, empty otherwise.
  std::span<const std::uint8_t> address() const;
  // The name for Kind::Name, empty otherwise.
  std::string_view host_name() const;
  // The IPv4 address of a v4-mapped IPv6 endpoint (::ffff:a.b.c.d), else itself.
  Endpoint unmapped() const;
  // An IPv4 endpoint as ::ffff:a.b.c.d (how an AF_INET6 socket reaches it),
  // else itself.
  Endpoint v4_mapped() const;
  bool is_loopback() const;     // 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104
  bool is_unspecified() const;  // 0.0.0.0 or ::

  // Fills a sockaddr_in / sockaddr_in6; returns its length, 0 for names.
  socklen_t to_sockaddr(sockaddr_storage& out) const;

  friend bool operator==(const Endpoint& a, const Endpoint& b);

 private:
  static Endpoint ip(Kind kind, const void* addr, std::size_t size, std::uint16_t port);

  Kind kind_ = Kind::None;
  std::uint8_t name_len_ = 0;
  std::uint16_t port_ = 0;
  // Address bytes or the name (not NUL-terminated).
  std::array<char, kMaxNameLength> data_{};
};

}  // namespace socksify

// "1.2.3.4:80", "[::1]:80", "example.test:80".
template <>
struct fmt::formatter<socksify::Endpoint> : fmt::formatter<std::string_view> {
  fmt::format_context::iterator format(const socksify::Endpoint& ep,
                                       fmt::format_context& ctx) const;
};
