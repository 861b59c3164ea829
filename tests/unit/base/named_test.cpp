#include "base/named.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace socksify {
namespace {

enum class Colour : unsigned char { Red = 1, Green = 2, Blue = 7 };

constexpr Named<Colour> kColours[] = {{Colour::Red, "red"}, {Colour::Green, "green"}};
constexpr CodeMeaning<Colour> kCodes[] = {{Colour::Red, ECONNREFUSED, "refused"}};

TEST(Named, NameOfAValueWithARowAndTheFallbackWithout) {
  EXPECT_EQ(name_of(kColours, Colour::Green), "green");
  EXPECT_EQ(name_of(kColours, Colour::Blue), "");
  EXPECT_EQ(name_of(kColours, Colour::Blue, "?"), "?");
  EXPECT_EQ(name_of(kColours, static_cast<Colour>(200), "?"), "?");
}

TEST(Named, ValueNamedComparesAsciiWithoutCaseAndWhole) {
  EXPECT_EQ(value_named(kColours, "RED"), Colour::Red);
  EXPECT_EQ(value_named(kColours, "green"), Colour::Green);
  EXPECT_EQ(value_named(kColours, "gree"), std::nullopt);
  EXPECT_EQ(value_named(kColours, ""), std::nullopt);
}

TEST(Named, CodeMeaningGivesErrnoAndTextOrTheFallbacks) {
  EXPECT_EQ(error_of(kCodes, Colour::Red, EPROTO), ECONNREFUSED);
  EXPECT_EQ(text_of(kCodes, Colour::Red, "unknown"), "refused");
  EXPECT_EQ(error_of(kCodes, Colour::Green, EPROTO), EPROTO);
  EXPECT_EQ(text_of(kCodes, Colour::Green, "unknown"), "unknown");
  static_assert(row_for(kColours, Colour::Red) == &kColours[0]);
}

}  // namespace
}  // namespace socksify
