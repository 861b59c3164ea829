// DirectRule: one destination pattern that bypasses the proxy, as written in
// `direct` lines and SOCKSIFY_DIRECT. Matching lives in rules.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/cidr.hpp"
#include "base/result.hpp"

namespace socksify {

struct DirectRule {
  enum class Kind : std::uint8_t {
    AnyHost,       // ":443": every destination on the port
    Network,       // "10.0.0.0/8", "1.2.3.4", "fd00::/8", "[fd00::]/8"
    DomainSuffix,  // ".example.test": the domain and every name below it
    HostName,      // "intranet": exactly this name
  };
  Kind kind = Kind::AnyHost;
  Cidr network;            // Kind::Network
  std::string name;        // DomainSuffix (without the dot) / HostName; lower case, no final dot
  std::uint16_t port = 0;  // 0: every port
  friend bool operator==(const DirectRule&, const DirectRule&) = default;
};

// Forms, each optionally followed by ":PORT": "CIDR", "[IPv6]", "[IPv6]/N",
// ".domain.suffix", "host"; and ":PORT" alone. A bare IPv6 address takes a
// port only after a prefix ("fd00::/8:443"); otherwise use brackets.
Result<DirectRule, Message> parse_direct_rule(std::string_view text);

}  // namespace socksify
