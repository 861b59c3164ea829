#include "core/udp_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace socksify {
namespace {

Endpoint from_text(const char* text, std::uint16_t port) {
  std::uint8_t a[16];
  if (inet_pton(AF_INET, text, a) == 1)
    return Endpoint::ipv4(std::span<const std::uint8_t, 4>(a, 4), port);
  EXPECT_EQ(inet_pton(AF_INET6, text, a), 1) << text;
  return Endpoint::ipv6(a, port);
}

std::string shown(const sockaddr_storage& ss, socklen_t len) {
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  return ep ? fmt::format("{}", *ep) : "none";
}

TEST(UdpAddress, IPv6SocketsSeeIPv4AddressesV4Mapped) {
  sockaddr_storage ss;
  const socklen_t n = sockaddr_in_family(from_text("10.0.1.2", 40000), AF_INET6, ss);
  ASSERT_EQ(n, sizeof(sockaddr_in6));
  EXPECT_EQ(shown(ss, n), "[::ffff:10.0.1.2]:40000");
}

TEST(UdpAddress, IPv4SocketsSeeV4MappedAddressesAsIPv4AndCannotSeeIPv6) {
  sockaddr_storage ss;
  socklen_t n = sockaddr_in_family(from_text("::ffff:10.0.1.2", 53), AF_INET, ss);
  ASSERT_EQ(n, sizeof(sockaddr_in));
  EXPECT_EQ(shown(ss, n), "10.0.1.2:53");
  EXPECT_EQ(sockaddr_in_family(from_text("fd00:201::2", 53), AF_INET, ss), 0u);
  EXPECT_EQ(sockaddr_in_family(*Endpoint::name("a.test", 53), AF_INET6, ss), 0u);
}

TEST(UdpAddress, AssociateRequestNamesOurPortWithAZeroAddressOfTheWantedFamily) {
  auto req = [](const char* bound, std::uint16_t port, bool v6) {
    return fmt::format("{}", associate_request_address(from_text(bound, port), v6));
  };
  EXPECT_EQ(req("::", 5353, false), "0.0.0.0:5353");
  EXPECT_EQ(req("::", 5353, true), "[::]:5353");
  EXPECT_EQ(req("0.0.0.0", 5353, false), "0.0.0.0:5353");
  // A specific bound address is what we send from, whatever relay we want.
  EXPECT_EQ(req("::ffff:10.0.0.2", 9, true), "10.0.0.2:9");
  EXPECT_EQ(req("fd00::2", 9, false), "[fd00::2]:9");
}

TEST(UdpAddress, RelayMatchIsExactOnFamilyAddressAndPort) {
  sockaddr_storage relay, from;
  const socklen_t rl = sockaddr_in_family(from_text("10.0.1.2", 4000), AF_INET6, relay);
  socklen_t fl = sockaddr_in_family(from_text("10.0.1.2", 4000), AF_INET6, from);
  EXPECT_TRUE(is_relay_address(from, fl, relay));
  fl = sockaddr_in_family(from_text("10.0.1.2", 4001), AF_INET6, from);
  EXPECT_FALSE(is_relay_address(from, fl, relay));
  fl = sockaddr_in_family(from_text("10.0.1.3", 4000), AF_INET6, from);
  EXPECT_FALSE(is_relay_address(from, fl, relay));
  fl = sockaddr_in_family(from_text("10.0.1.2", 4000), AF_INET, from);
  EXPECT_FALSE(is_relay_address(from, fl, relay));
  (void)rl;
}

TEST(UdpAddress, HeaderSizesFollowRfc1928Section7) {
  EXPECT_EQ(udp_header_size(from_text("1.2.3.4", 1)), 10u);
  EXPECT_EQ(udp_header_size(from_text("::1", 1)), 22u);
  EXPECT_EQ(udp_header_size(*Endpoint::name("abc", 1)), 10u);
}

}  // namespace
}  // namespace socksify
