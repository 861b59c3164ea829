#include "config/rules.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace socksify {
namespace {

Endpoint ip(const char* text, std::uint16_t port = 80) {
  std::uint8_t bytes[16] = {};
  if (inet_pton(AF_INET, text, bytes) == 1) {
    return Endpoint::ipv4(std::span<const std::uint8_t, 4>(bytes, 4), port);
  }
  EXPECT_EQ(inet_pton(AF_INET6, text, bytes), 1) << text;
  return Endpoint::ipv6(std::span<const std::uint8_t, 16>(bytes, 16), port);
}

Endpoint name(const char* host, std::uint16_t port = 80) {
  return *Endpoint::name(host, port);
}

Settings with_rules(std::initializer_list<const char*> rules, bool direct_loopback = false) {
  Settings s;
  s.direct_loopback = direct_loopback;
  for (const char* text : rules) {
    auto r = parse_direct_rule(text);
    EXPECT_TRUE(r.ok()) << text;
    if (r) s.direct_rules.push_back(*r);
  }
  return s;
}

TEST(IsDirect, NothingIsDirectWithoutRulesOrLoopback) {
  const Settings s = with_rules({});
  EXPECT_FALSE(is_direct(s, ip("127.0.0.1")));
  EXPECT_FALSE(is_direct(s, ip("10.0.0.1")));
  EXPECT_FALSE(is_direct(s, name("localhost")));
}

TEST(IsDirect, LoopbackWhenDirectLoopbackIsOn) {
  const Settings s = with_rules({}, true);
  for (const char* addr :
       {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::"}) {
    EXPECT_TRUE(is_direct(s, ip(addr))) << addr;
  }
  for (const char* host : {"localhost", "LocalHost.", "app.localhost", "127.0.0.1", "::1"}) {
    EXPECT_TRUE(is_direct(s, name(host))) << host;
  }
  for (const char* addr : {"128.0.0.1", "::2", "::ffff:10.0.0.1", "fe80::1"}) {
    EXPECT_FALSE(is_direct(s, ip(addr))) << addr;
  }
  for (const char* host : {"notlocalhost", "localhost.example.test", "example.test"}) {
    EXPECT_FALSE(is_direct(s, name(host))) << host;
  }
}

TEST(IsDirect, MatchesIPv4Networks) {
  const Settings s = with_rules({"10.0.0.0/8", "192.168.1.128/25", "203.0.113.7"});
  EXPECT_TRUE(is_direct(s, ip("10.0.0.1")));
  EXPECT_TRUE(is_direct(s, ip("10.255.255.255")));
  EXPECT_FALSE(is_direct(s, ip("11.0.0.1")));
  EXPECT_TRUE(is_direct(s, ip("192.168.1.128")));
  EXPECT_TRUE(is_direct(s, ip("192.168.1.255")));
  EXPECT_FALSE(is_direct(s, ip("192.168.1.127")));
  EXPECT_TRUE(is_direct(s, ip("203.0.113.7")));
  EXPECT_FALSE(is_direct(s, ip("203.0.113.8")));
}

TEST(IsDirect, V4MappedIPv6MatchesIPv4Rules) {
  const Settings s = with_rules({"10.0.0.0/8"});
  EXPECT_TRUE(is_direct(s, ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(is_direct(s, ip("::ffff:11.1.2.3")));
  EXPECT_TRUE(is_direct(s, name("::ffff:10.1.2.3")));
}

TEST(IsDirect, MatchesIPv6Networks) {
  const Settings s = with_rules({"fd00::/8", "2001:db8::1", "2001:db8:1::/127"});
  EXPECT_TRUE(is_direct(s, ip("fd12:3456::1")));
  EXPECT_FALSE(is_direct(s, ip("fe00::1")));
  EXPECT_TRUE(is_direct(s, ip("2001:db8::1")));
  EXPECT_FALSE(is_direct(s, ip("2001:db8::2")));
  EXPECT_TRUE(is_direct(s, ip("2001:db8:1::1")));
  EXPECT_FALSE(is_direct(s, ip("2001:db8:1::2")));
}

TEST(IsDirect, FamiliesDoNotCrossMatch) {
  EXPECT_FALSE(is_direct(with_rules({"::/0"}), ip("10.0.0.1")));
  EXPECT_FALSE(is_direct(with_rules({"0.0.0.0/0"}), ip("fd00::1")));
  EXPECT_TRUE(is_direct(with_rules({"0.0.0.0/0"}), ip("8.8.8.8")));
  EXPECT_TRUE(is_direct(with_rules({"::/0"}), ip("2001:db8::5")));
}

TEST(IsDirect, NetworkRulesMatchNamesThatAreIPLiterals) {
  const Settings s = with_rules({"10.0.0.0/8", "fd00::/8"});
  EXPECT_TRUE(is_direct(s, name("10.2.3.4")));
  EXPECT_TRUE(is_direct(s, name("fd00::9")));
  EXPECT_FALSE(is_direct(s, name("10.example.test")));
}

TEST(IsDirect, DomainSuffixMatchesDomainAndSubdomainsOnly) {
  const Settings s = with_rules({".example.test"});
  for (const char* host : {"example.test", "a.example.test", "a.b.example.test", "A.Example.TEST",
                           "a.example.test."}) {
    EXPECT_TRUE(is_direct(s, name(host))) << host;
  }
  for (const char* host : {"badexample.test", "example.test.evil", "xample.test", "test"}) {
    EXPECT_FALSE(is_direct(s, name(host))) << host;
  }
  EXPECT_FALSE(is_direct(s, ip("10.0.0.1")));
}

TEST(IsDirect, HostNameMatchesExactlyThatName) {
  const Settings s = with_rules({"intranet", "db.corp.test"});
  EXPECT_TRUE(is_direct(s, name("intranet")));
  EXPECT_TRUE(is_direct(s, name("INTRANET.")));
  EXPECT_TRUE(is_direct(s, name("db.corp.test")));
  EXPECT_FALSE(is_direct(s, name("a.intranet")));
  EXPECT_FALSE(is_direct(s, name("intranet2")));
  EXPECT_FALSE(is_direct(s, name("corp.test")));
}

TEST(IsDirect, PortRules) {
  const Settings s = with_rules({":53", "10.0.0.0/8:22", ".example.test:8443", "[fd00::1]:25"});
  EXPECT_TRUE(is_direct(s, ip("8.8.8.8", 53)));
  EXPECT_TRUE(is_direct(s, name("anything.test", 53)));
  EXPECT_FALSE(is_direct(s, ip("8.8.8.8", 54)));
  EXPECT_TRUE(is_direct(s, ip("10.9.9.9", 22)));
  EXPECT_FALSE(is_direct(s, ip("10.9.9.9", 23)));
  EXPECT_TRUE(is_direct(s, name("a.example.test", 8443)));
  EXPECT_FALSE(is_direct(s, name("a.example.test", 443)));
  EXPECT_TRUE(is_direct(s, ip("fd00::1", 25)));
  EXPECT_FALSE(is_direct(s, ip("fd00::1", 26)));
}

TEST(IsDirect, AnyMatchingRuleWins) {
  const Settings s = with_rules({"10.0.0.0/8:22", "10.1.0.0/16"});
  EXPECT_TRUE(is_direct(s, ip("10.1.0.1", 80)));
  EXPECT_TRUE(is_direct(s, ip("10.2.0.1", 22)));
  EXPECT_FALSE(is_direct(s, ip("10.2.0.1", 80)));
}

TEST(RuleMatches, OneRuleAtATime) {
  EXPECT_TRUE(rule_matches(*parse_direct_rule(".example.test"), name("x.example.test")));
  EXPECT_FALSE(rule_matches(*parse_direct_rule(".example.test"), ip("10.0.0.1")));
  EXPECT_TRUE(rule_matches(*parse_direct_rule(":1"), ip("10.0.0.1", 1)));
}

}  // namespace
}  // namespace socksify
