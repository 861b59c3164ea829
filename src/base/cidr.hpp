// Cidr: an IP network, as fake ranges (SOCKSIFY_FAKE_IPV4/6) and direct rules
// write it.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.hpp"

namespace socksify {

// An IP network: address bytes (4 or 16) and prefix length.
struct Cidr {
  std::uint8_t family = 0;  // AF_INET or AF_INET6
  std::uint8_t bytes[16] = {};
  std::uint8_t prefix = 0;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};
// "10.0.0.0/8", "fd00::/8", "1.2.3.4" (= /32). Host bits must be zero.
Result<Cidr, Message> parse_cidr(std::string_view text);

}  // namespace socksify
