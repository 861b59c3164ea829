#include "base/decimal.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace socksify {
namespace {

std::uint64_t ok(std::string_view text, std::uint64_t max) {
  const auto r = parse_decimal(text, max);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : ~std::uint64_t{0};
}

DecimalError error(std::string_view text, std::uint64_t max) {
  const auto r = parse_decimal(text, max);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
  return r.ok() ? DecimalError::Empty : r.error();
}

TEST(Decimal, ParsesDigitsUpToTheMaximum) {
  EXPECT_EQ(ok("0", 65535), 0u);
  EXPECT_EQ(ok("8080", 65535), 8080u);
  EXPECT_EQ(ok("65535", 65535), 65535u);
  EXPECT_EQ(ok("000080", 65535), 80u);  // leading zeros are digits (callers bound the length)
  EXPECT_EQ(ok("9", 9), 9u);
  EXPECT_EQ(ok("0", 0), 0u);
  EXPECT_EQ(ok("18446744073709551615", std::numeric_limits<std::uint64_t>::max()),
            std::numeric_limits<std::uint64_t>::max());
}

TEST(Decimal, RefusesAboveTheMaximumWithoutOverflowing) {
  EXPECT_EQ(error("65536", 65535), DecimalError::TooLarge);
  EXPECT_EQ(error("10", 9), DecimalError::TooLarge);
  EXPECT_EQ(error("1", 0), DecimalError::TooLarge);
  EXPECT_EQ(error(std::string(40, '9'), 65535), DecimalError::TooLarge);
  EXPECT_EQ(error("18446744073709551616", std::numeric_limits<std::uint64_t>::max()),
            DecimalError::TooLarge);
}

TEST(Decimal, RefusesAnythingButDigits) {
  EXPECT_EQ(error("", 65535), DecimalError::Empty);
  for (const char* bad : {"-1", "+1", " 1", "1 ", "0x10", "1.5", "1e3", "http", "99999x"}) {
    EXPECT_EQ(error(bad, 65535), DecimalError::NotDigits) << bad;
  }
}

}  // namespace
}  // namespace socksify
