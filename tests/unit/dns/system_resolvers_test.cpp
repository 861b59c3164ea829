#include "dns/system_resolvers.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

namespace socksify::dns {
namespace {

sockaddr_in v4(const char* text, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, text, &sa.sin_addr);
  return sa;
}

sockaddr_in6 v6(const char* text, std::uint16_t port) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  inet_pton(AF_INET6, text, &sa.sin6_addr);
  return sa;
}

bool has(const SystemResolvers& r, const sockaddr_in& sa) {
  return r.contains(reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
}
bool has(const SystemResolvers& r, const sockaddr_in6& sa) {
  return r.contains(reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
}

TEST(SystemResolvers, EveryNameserverLineOnPort53) {
  const auto r = SystemResolvers::parse(
      "# generated\nsearch example.test\nnameserver 10.255.255.53\n"
      "nameserver\t192.0.2.1  # trailing words are ignored\nnameserver 2001:db8::53\n"
      "options timeout:1\n");
  EXPECT_TRUE(has(r, v4("10.255.255.53", 53)));
  EXPECT_TRUE(has(r, v4("192.0.2.1", 53)));
  EXPECT_TRUE(has(r, v6("2001:db8::53", 53)));
  EXPECT_FALSE(has(r, v4("10.255.255.53", 5353)));  // resolv.conf names no other port
  EXPECT_FALSE(has(r, v4("10.255.255.54", 53)));
  EXPECT_FALSE(has(r, v6("2001:db8::54", 53)));
}

TEST(SystemResolvers, SystemdStubAlwaysLoopbackDefaultsOnlyWithoutServers) {
  const auto listed = SystemResolvers::parse("nameserver 10.0.0.1\n");
  EXPECT_TRUE(has(listed, v4("127.0.0.53", 53)));
  EXPECT_FALSE(has(listed, v4("127.0.0.1", 53)));
  EXPECT_FALSE(has(listed, v6("::1", 53)));
  // glibc (res_init) and c-ares fall back to the local host without a server.
  for (const char* text : {"", "search x\n", "nameserver bogus\n", "#nameserver 10.0.0.1\n"}) {
    const auto none = SystemResolvers::parse(text);
    EXPECT_TRUE(has(none, v4("127.0.0.1", 53))) << text;
    EXPECT_TRUE(has(none, v6("::1", 53))) << text;
    EXPECT_TRUE(has(none, v4("127.0.0.53", 53))) << text;
    EXPECT_FALSE(has(none, v4("10.0.0.1", 53))) << text;
  }
}

TEST(SystemResolvers, V4MappedAddressCountsAsItsIpv4Address) {
  const auto r = SystemResolvers::parse("nameserver 10.255.255.53\n");
  EXPECT_TRUE(has(r, v6("::ffff:10.255.255.53", 53)));
  EXPECT_FALSE(has(r, v6("::ffff:10.255.255.54", 53)));
  // A v4-mapped server line matches the plain IPv4 address too.
  const auto mapped = SystemResolvers::parse("nameserver ::ffff:192.0.2.7\n");
  EXPECT_TRUE(has(mapped, v4("192.0.2.7", 53)));
}

TEST(SystemResolvers, ScopeIgnoredDuplicatesOnceCommentsAndGarbageSkipped) {
  const auto r = SystemResolvers::parse(
      "nameserver fe80::1%eth0\nnameserver 10.0.0.1\nnameserver 10.0.0.1\n"
      "; nameserver 10.0.0.2\nnameservers 10.0.0.3\nnameserver 10.0.0.4.5\n"
      "nameserver 300.1.1.1\n  nameserver 10.0.0.6\r\n");
  EXPECT_TRUE(has(r, v6("fe80::1", 53)));
  EXPECT_TRUE(has(r, v4("10.0.0.1", 53)));
  EXPECT_FALSE(has(r, v4("10.0.0.2", 53)));
  EXPECT_FALSE(has(r, v4("10.0.0.3", 53)));
  EXPECT_TRUE(has(r, v4("10.0.0.6", 53)));  // leading blanks and CRLF are fine
  EXPECT_EQ(r.size(), 4u);                  // fe80::1, 10.0.0.1, 10.0.0.6, 127.0.0.53
}

TEST(SystemResolvers, BoundedAndNonIpAddressesNeverMatch) {
  std::string text;
  for (int i = 1; i <= 40; ++i) text += "nameserver 10.1.0." + std::to_string(i) + "\n";
  const auto r = SystemResolvers::parse(text);
  EXPECT_EQ(r.size(), SystemResolvers::kMax + 1);  // and 127.0.0.53
  EXPECT_TRUE(has(r, v4("127.0.0.53", 53)));
  EXPECT_FALSE(has(r, v4("10.1.0.17", 53)));
  EXPECT_TRUE(has(r, v4("10.1.0.1", 53)));
  sockaddr sa{};
  sa.sa_family = AF_UNIX;
  EXPECT_FALSE(r.contains(&sa, sizeof sa));
  EXPECT_FALSE(r.contains(nullptr, 0));
  EXPECT_FALSE(r.contains(*Endpoint::name("dns.test", 53)));
}

}  // namespace
}  // namespace socksify::dns
