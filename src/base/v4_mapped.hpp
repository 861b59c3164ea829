// IPv4-mapped IPv6 addresses, ::ffff:a.b.c.d (RFC 4291 §2.5.5.2): how an
// AF_INET6 socket names an IPv4 peer. The one place the prefix is spelled.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

namespace socksify {

inline constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0,    0,
                                                                 0, 0, 0, 0, 0xff, 0xff};

// 16 address bytes that start with the prefix (their IPv4 address is bytes 12-15).
constexpr bool is_v4_mapped(std::span<const std::uint8_t> a) {
  return a.size() == 16 && std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), a.begin());
}

// ::ffff:a.b.c.d for the IPv4 address a.b.c.d.
constexpr std::array<std::uint8_t, 16> to_v4_mapped(std::span<const std::uint8_t, 4> v4) {
  std::array<std::uint8_t, 16> out{};
  std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), out.begin());
  std::copy(v4.begin(), v4.end(), out.begin() + 12);
  return out;
}

}  // namespace socksify
