#include "config/direct_rule.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

namespace socksify {
namespace {

using Kind = DirectRule::Kind;

DirectRule rule_ok(std::string_view text) {
  auto r = parse_direct_rule(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().text);
  return r.ok() ? *r : DirectRule{};
}

std::string rule_error(std::string_view text) {
  auto r = parse_direct_rule(text);
  EXPECT_FALSE(r.ok()) << text << " parsed unexpectedly";
  return r.ok() ? "" : r.error().text;
}

TEST(DirectRuleParse, PortAlone) {
  const DirectRule r = rule_ok(":443");
  EXPECT_EQ(r.kind, Kind::AnyHost);
  EXPECT_EQ(r.port, 443);
}

TEST(DirectRuleParse, IPv4NetworksAndAddresses) {
  DirectRule r = rule_ok("10.0.0.0/8");
  EXPECT_EQ(r.kind, Kind::Network);
  EXPECT_EQ(r.network, *parse_cidr("10.0.0.0/8"));
  EXPECT_EQ(r.port, 0);
  r = rule_ok("192.168.1.7");
  EXPECT_EQ(r.network.prefix, 32);
  r = rule_ok("10.0.0.0/8:22");
  EXPECT_EQ(r.network, *parse_cidr("10.0.0.0/8"));
  EXPECT_EQ(r.port, 22);
  r = rule_ok("192.168.1.7:8080");
  EXPECT_EQ(r.network, *parse_cidr("192.168.1.7/32"));
  EXPECT_EQ(r.port, 8080);
}

TEST(DirectRuleParse, IPv6BareAndBracketed) {
  EXPECT_EQ(rule_ok("fd00::/8").network, *parse_cidr("fd00::/8"));
  EXPECT_EQ(rule_ok("fd00::1").network, *parse_cidr("fd00::1/128"));
  EXPECT_EQ(rule_ok("::1").network, *parse_cidr("::1/128"));
  DirectRule r = rule_ok("fd00::/8:443");
  EXPECT_EQ(r.network, *parse_cidr("fd00::/8"));
  EXPECT_EQ(r.port, 443);
  r = rule_ok("[fd00::1]");
  EXPECT_EQ(r.network, *parse_cidr("fd00::1"));
  EXPECT_EQ(r.port, 0);
  r = rule_ok("[fd00::1]:53");
  EXPECT_EQ(r.network, *parse_cidr("fd00::1"));
  EXPECT_EQ(r.port, 53);
  r = rule_ok("[fd00::]/16");
  EXPECT_EQ(r.network, *parse_cidr("fd00::/16"));
  r = rule_ok("[fd00::]/16:80");
  EXPECT_EQ(r.network, *parse_cidr("fd00::/16"));
  EXPECT_EQ(r.port, 80);
}

TEST(DirectRuleParse, DomainSuffixIsNormalised) {
  DirectRule r = rule_ok(".Example.TEST");
  EXPECT_EQ(r.kind, Kind::DomainSuffix);
  EXPECT_EQ(r.name, "example.test");
  r = rule_ok(".corp.test.:8443");
  EXPECT_EQ(r.name, "corp.test");
  EXPECT_EQ(r.port, 8443);
}

TEST(DirectRuleParse, HostName) {
  DirectRule r = rule_ok("Intranet");
  EXPECT_EQ(r.kind, Kind::HostName);
  EXPECT_EQ(r.name, "intranet");
  r = rule_ok("db.corp.test:5432");
  EXPECT_EQ(r.kind, Kind::HostName);
  EXPECT_EQ(r.name, "db.corp.test");
  EXPECT_EQ(r.port, 5432);
}

TEST(DirectRuleParse, RejectsBadRules) {
  EXPECT_EQ(rule_error(""), "empty rule");
  EXPECT_EQ(rule_error(":"), "missing port after ':'");
  EXPECT_EQ(rule_error(":0"), "invalid port '0' (expected 1..65535)");
  EXPECT_EQ(rule_error(":65536"), "invalid port '65536' (expected 1..65535)");
  EXPECT_EQ(rule_error(":http"), "invalid port 'http' (expected 1..65535)");
  EXPECT_EQ(rule_error("host:"), "missing port after ':'");
  EXPECT_EQ(rule_error("10.0.0.0/8:"), "missing port after ':'");
  EXPECT_EQ(rule_error("10.1.0.0/8"),
            "host bits set in '10.1.0.0/8' (the address must be the network's first)");
  EXPECT_EQ(rule_error("10.0.0.0/40"), "prefix length 40 out of range (0..32)");
  EXPECT_EQ(rule_error("1.2.3"), "invalid IPv4 address '1.2.3'");
  EXPECT_EQ(rule_error("[fd00::1"), "unterminated IPv6 bracket");
  EXPECT_EQ(rule_error("[1.2.3.4]"), "invalid IPv6 address '1.2.3.4'");
  EXPECT_EQ(rule_error("[fd00::1]x"), "unexpected text after ']' in '[fd00::1]x'");
  EXPECT_EQ(rule_error("."), "missing host name");
  EXPECT_EQ(rule_error(":80:"), "invalid IPv6 address ':80:'");
  EXPECT_EQ(rule_error("..example.test"), "empty label in host name '.example.test'");
  EXPECT_EQ(rule_error("a..b"), "empty label in host name 'a..b'");
  // Found by fuzz_direct_rule: "a.." used to become the rule "a.", which no
  // destination could match.
  EXPECT_EQ(rule_error("a.."), "empty label in host name 'a..'");
  EXPECT_EQ(rule_error(".a..:443"), "empty label in host name 'a..'");
  EXPECT_EQ(rule_error("*.example.test"), "invalid character in host name '*.example.test'");
  EXPECT_EQ(rule_error(std::string(256, 'a')), "host name longer than 255 bytes");
}

}  // namespace
}  // namespace socksify
