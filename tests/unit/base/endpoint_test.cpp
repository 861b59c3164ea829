#include "base/endpoint.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

namespace socksify {
namespace {

TEST(Endpoint, RoundTripsIPv4ThroughSockaddr) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(8080);
  inet_pton(AF_INET, "10.200.1.2", &in.sin_addr);
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&in), sizeof in);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->kind(), Endpoint::Kind::IPv4);
  EXPECT_EQ(ep->port(), 8080);
  EXPECT_EQ(fmt::format("{}", *ep), "10.200.1.2:8080");
  sockaddr_storage ss;
  ASSERT_EQ(ep->to_sockaddr(ss), sizeof(sockaddr_in));
  EXPECT_EQ(0, memcmp(&ss, &in, sizeof in));
}

TEST(Endpoint, FormatsIPv6InBrackets) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  inet_pton(AF_INET6, "fd00::2", &in6.sin6_addr);
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&in6), sizeof in6);
  ASSERT_TRUE(ep);
  EXPECT_EQ(fmt::format("{}", *ep), "[fd00::2]:443");
}

TEST(Endpoint, RejectsShortSockaddrAndOtherFamilies) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  EXPECT_FALSE(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&in), sizeof in - 1));
  sockaddr sa{};
  sa.sa_family = AF_UNIX;
  EXPECT_FALSE(Endpoint::from_sockaddr(&sa, sizeof sa));
  EXPECT_FALSE(Endpoint::from_sockaddr(nullptr, 0));
}

TEST(Endpoint, NamesAreBoundedByOneLengthByte) {
  EXPECT_FALSE(Endpoint::name("", 80));
  EXPECT_TRUE(Endpoint::name(std::string(255, 'a'), 80));
  EXPECT_FALSE(Endpoint::name(std::string(256, 'a'), 80));
  auto ep = Endpoint::name("target.test", 8080);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host_name(), "target.test");
  EXPECT_EQ(fmt::format("{}", *ep), "target.test:8080");
  sockaddr_storage ss;
  EXPECT_EQ(ep->to_sockaddr(ss), 0u);
}

TEST(Endpoint, RecognisesLoopbackIncludingV4Mapped) {
  std::uint8_t v4[4] = {127, 0, 0, 9};
  EXPECT_TRUE(Endpoint::ipv4(v4, 1).is_loopback());
  std::uint8_t one[16] = {};
  one[15] = 1;
  EXPECT_TRUE(Endpoint::ipv6(one, 1).is_loopback());
  std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  EXPECT_TRUE(Endpoint::ipv6(mapped, 1).is_loopback());
  EXPECT_EQ(Endpoint::ipv6(mapped, 7).unmapped().kind(), Endpoint::Kind::IPv4);
  EXPECT_EQ(Endpoint::ipv4(v4, 5).v4_mapped(),
            Endpoint::ipv6(std::span<const std::uint8_t, 16>(std::array<std::uint8_t, 16>{
                               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 9}),
                           5));
  EXPECT_EQ(Endpoint::ipv4(v4, 5).v4_mapped().unmapped(), Endpoint::ipv4(v4, 5));
  std::uint8_t other[4] = {10, 0, 0, 1};
  EXPECT_FALSE(Endpoint::ipv4(other, 1).is_loopback());
}

}  // namespace
}  // namespace socksify
