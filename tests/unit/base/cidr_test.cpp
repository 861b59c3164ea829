#include "base/cidr.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace socksify {
namespace {

Cidr cidr_ok(std::string_view text) {
  auto r = parse_cidr(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().text);
  return r.ok() ? *r : Cidr{};
}

std::string cidr_error(std::string_view text) {
  auto r = parse_cidr(text);
  EXPECT_FALSE(r.ok()) << text << " parsed unexpectedly";
  return r.ok() ? "" : r.error().text;
}

TEST(Cidr, ParsesIPv4Network) {
  const Cidr c = cidr_ok("10.0.0.0/8");
  EXPECT_EQ(c.family, AF_INET);
  EXPECT_EQ(c.prefix, 8);
  EXPECT_EQ(c.bytes[0], 10);
  EXPECT_EQ(c.bytes[1], 0);
  EXPECT_EQ(cidr_ok("240.0.0.0/4").bytes[0], 240);
  EXPECT_EQ(cidr_ok("192.168.1.128/25").prefix, 25);
  EXPECT_EQ(cidr_ok("0.0.0.0/0").prefix, 0);
}

TEST(Cidr, BareAddressIsAHostRoute) {
  EXPECT_EQ(cidr_ok("1.2.3.4").prefix, 32);
  EXPECT_EQ(cidr_ok("fd00::1").prefix, 128);
}

TEST(Cidr, ParsesIPv6Network) {
  const Cidr c = cidr_ok("fd00::/8");
  EXPECT_EQ(c.family, AF_INET6);
  EXPECT_EQ(c.prefix, 8);
  EXPECT_EQ(c.bytes[0], 0xfd);
  const Cidr d = cidr_ok("100::/64");
  EXPECT_EQ(d.bytes[0], 0x01);
  EXPECT_EQ(d.bytes[1], 0x00);
  EXPECT_EQ(cidr_ok("::/0").prefix, 0);
  EXPECT_EQ(cidr_ok("2001:db8::/127").prefix, 127);
}

TEST(Cidr, EqualNetworksCompareEqual) {
  EXPECT_EQ(cidr_ok("10.0.0.0/8"), cidr_ok("10.0.0.0/8"));
  EXPECT_NE(cidr_ok("10.0.0.0/8"), cidr_ok("10.0.0.0/16"));
}

TEST(Cidr, RejectsHostBits) {
  EXPECT_EQ(cidr_error("10.1.0.0/8"),
            "host bits set in '10.1.0.0/8' (the address must be the network's first)");
  EXPECT_FALSE(parse_cidr("192.168.1.129/25").ok());
  EXPECT_FALSE(parse_cidr("fd00::1/64").ok());
  EXPECT_FALSE(parse_cidr("1.0.0.0/0").ok());
  EXPECT_TRUE(parse_cidr("192.168.1.128/25").ok());
}

TEST(Cidr, RejectsBadPrefix) {
  EXPECT_EQ(cidr_error("10.0.0.0/33"), "prefix length 33 out of range (0..32)");
  EXPECT_EQ(cidr_error("fd00::/129"), "prefix length 129 out of range (0..128)");
  EXPECT_EQ(cidr_error("10.0.0.0/"), "invalid prefix length '' (expected 0..32)");
  EXPECT_EQ(cidr_error("10.0.0.0/x"), "invalid prefix length 'x' (expected 0..32)");
  EXPECT_EQ(cidr_error("10.0.0.0/-1"), "invalid prefix length '-1' (expected 0..32)");
  EXPECT_EQ(cidr_error("10.0.0.0/0008"), "invalid prefix length '0008' (expected 0..32)");
  EXPECT_EQ(cidr_error("10.0.0.0/8/8"), "invalid prefix length '8/8' (expected 0..32)");
}

TEST(Cidr, RejectsBadAddresses) {
  EXPECT_EQ(cidr_error(""), "empty network (expected e.g. 10.0.0.0/8 or fd00::/8)");
  EXPECT_EQ(cidr_error("/8"), "invalid network address ''");
  EXPECT_EQ(cidr_error("10.0.0/8"), "invalid IPv4 address '10.0.0'");
  EXPECT_EQ(cidr_error("example.test"), "invalid IPv4 address 'example.test'");
  EXPECT_EQ(cidr_error("fd00:::1/8"), "invalid IPv6 address 'fd00:::1'");
  EXPECT_EQ(cidr_error("[fd00::]/8"), "invalid IPv6 address '[fd00::]'");
  EXPECT_FALSE(parse_cidr(std::string(100, '1')).ok());
}

}  // namespace
}  // namespace socksify
