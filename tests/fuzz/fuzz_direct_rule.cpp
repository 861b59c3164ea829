// Fuzzes parse_direct_rule and parse_cidr, and matches every parsed rule
// against a few destinations. Properties: a CIDR has a valid family and
// prefix and no host bits; a name rule is lower case without a final dot; a
// rule matches the destination it was built from where that is well defined.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/endpoint.hpp"
#include "config/direct_rule.hpp"
#include "config/rules.hpp"
#include "fuzz_check.hpp"

using namespace socksify;

namespace {

void check_cidr(const Cidr& c) {
  FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6);
  const unsigned bits = c.family == AF_INET ? 32 : 128;
  FUZZ_CHECK(c.prefix <= bits);
  for (unsigned b = c.prefix; b < bits; ++b) {
    FUZZ_CHECK((c.bytes[b / 8] & (0x80 >> (b % 8))) == 0);  // host bits are zero
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto c = parse_cidr(text)) check_cidr(*c);

  const auto rule = parse_direct_rule(text);
  if (!rule) {
    FUZZ_CHECK(!rule.error().text.empty());
    return 0;
  }
  const std::uint16_t port = rule->port != 0 ? rule->port : 80;
  static constexpr std::uint8_t kV4[4] = {192, 0, 2, 7};
  static constexpr std::uint8_t kV6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                           0,    0,    0,    0,    0, 0, 0, 7};
  (void)rule_matches(*rule, Endpoint::ipv4(kV4, port));
  (void)rule_matches(*rule, Endpoint::ipv6(kV6, port));
  (void)rule_matches(*rule, *Endpoint::name("host.example.test", port));

  switch (rule->kind) {
    case DirectRule::Kind::AnyHost:
      FUZZ_CHECK(rule->port != 0);
      FUZZ_CHECK(rule_matches(*rule, Endpoint::ipv4(kV4, rule->port)));
      break;
    case DirectRule::Kind::Network: {
      check_cidr(rule->network);
      // The network's own address is inside it.
      const Endpoint net =
          rule->network.family == AF_INET
              ? Endpoint::ipv4(std::span<const std::uint8_t, 4>(rule->network.bytes, 4), port)
              : Endpoint::ipv6(std::span<const std::uint8_t, 16>(rule->network.bytes, 16), port);
      FUZZ_CHECK(rule_matches(*rule, net));
      break;
    }
    case DirectRule::Kind::DomainSuffix:
    case DirectRule::Kind::HostName: {
      FUZZ_CHECK(!rule->name.empty());
      FUZZ_CHECK(rule->name.back() != '.');
      for (const char ch : rule->name) FUZZ_CHECK(!(ch >= 'A' && ch <= 'Z'));
      if (auto ep = Endpoint::name(rule->name, port)) FUZZ_CHECK(rule_matches(*rule, *ep));
      break;
    }
  }
  return 0;
}
