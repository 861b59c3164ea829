#include "base/v4_mapped.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace socksify {
namespace {

std::array<std::uint8_t, 16> v6(const char* text) {
  std::array<std::uint8_t, 16> a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
  return a;
}

TEST(V4Mapped, RecognisesThePrefixOnly) {
  EXPECT_TRUE(is_v4_mapped(v6("::ffff:10.1.2.3")));
  EXPECT_TRUE(is_v4_mapped(v6("::ffff:0.0.0.0")));
  EXPECT_FALSE(is_v4_mapped(v6("::10.1.2.3")));  // IPv4-compatible, deprecated: not mapped
  EXPECT_FALSE(is_v4_mapped(v6("64:ff9b::10.1.2.3")));
  EXPECT_FALSE(is_v4_mapped(v6("::1")));
  const std::array<std::uint8_t, 4> v4{10, 1, 2, 3};
  EXPECT_FALSE(is_v4_mapped(v4));  // 4 bytes are an IPv4 address, not a mapped one
}

TEST(V4Mapped, MapsAsTheKernelShowsIt) {
  const std::array<std::uint8_t, 4> v4{192, 0, 2, 1};
  EXPECT_EQ(to_v4_mapped(v4), v6("::ffff:192.0.2.1"));
  static_assert(is_v4_mapped(to_v4_mapped(std::array<std::uint8_t, 4>{1, 2, 3, 4})));
}

}  // namespace
}  // namespace socksify
