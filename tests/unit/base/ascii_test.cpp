#include "base/ascii.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace socksify {
namespace {

std::vector<std::string_view> all_words(std::string_view s, bool (*sep)(char) = ascii::is_space) {
  std::vector<std::string_view> out;
  for (auto w = ascii::next_word(s, sep); !w.empty(); w = ascii::next_word(s, sep)) {
    out.push_back(w);
  }
  EXPECT_TRUE(s.empty());  // an empty word means nothing but separators was left
  return out;
}

TEST(Ascii, IsSpaceIsTheCLocaleSet) {
  for (const char c : std::string_view(" \t\n\r\v\f")) EXPECT_TRUE(ascii::is_space(c)) << int(c);
  for (const char c : std::string_view("a0#,;\0", 6)) EXPECT_FALSE(ascii::is_space(c)) << int(c);
}

TEST(Ascii, NextWordSkipsLeadingSeparatorsAndConsumesTheWord) {
  std::string_view line = "  nameserver\t10.0.0.1  # x";
  EXPECT_EQ(ascii::next_word(line), "nameserver");
  EXPECT_EQ(line, "\t10.0.0.1  # x");
  EXPECT_EQ(ascii::next_word(line), "10.0.0.1");
  EXPECT_EQ(ascii::next_word(line), "#");
  EXPECT_EQ(ascii::next_word(line), "x");
  EXPECT_EQ(ascii::next_word(line), "");
  EXPECT_TRUE(line.empty());
}

TEST(Ascii, NextWordTakesAnySeparatorSet) {
  const auto comma = [](char c) { return c == ','; };
  EXPECT_EQ(all_words(",a,,b c,", comma), (std::vector<std::string_view>{"a", "b c"}));
  EXPECT_EQ(all_words(" \t "), std::vector<std::string_view>{});
  EXPECT_EQ(all_words(""), std::vector<std::string_view>{});
}

TEST(Ascii, NextLineSplitsOnNewlineOnly) {
  std::string_view text = "a b\r\n\nlast";
  EXPECT_EQ(ascii::next_line(text), "a b\r");
  EXPECT_EQ(ascii::next_line(text), "");
  EXPECT_EQ(ascii::next_line(text), "last");
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(ascii::next_line(text), "");
}

}  // namespace
}  // namespace socksify
