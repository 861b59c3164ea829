// Locale-free ASCII text helpers. Host names, URL schemes and config keywords
// compare case-insensitively in ASCII only: the C locale functions would make
// the answer depend on the host program's setlocale().
#pragma once

#include <cstddef>
#include <string_view>

namespace socksify::ascii {

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Digits and dots with at least one digit: what a mistyped IPv4 address looks
// like, so it is reported as a bad address instead of taken for a host name.
constexpr bool looks_numeric(std::string_view s) {
  bool digit = false;
  for (const char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.') {
      return false;
    }
  }
  return digit;
}

// C's isspace() in the "C" locale.
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The next run of characters that are not separators, removed from s with the
// separators before it; empty when none is left. The word tokenizer of the
// config lists, the hosts file and resolv.conf.
constexpr std::string_view next_word(std::string_view& s, bool (*separator)(char) = is_space) {
  std::size_t i = 0;
  while (i < s.size() && separator(s[i])) ++i;
  std::size_t j = i;
  while (j < s.size() && !separator(s[j])) ++j;
  const std::string_view word = s.substr(i, j - i);
  s.remove_prefix(j);
  return word;
}

// The text up to the next '\n' (without it), removed from text with the '\n'.
constexpr std::string_view next_line(std::string_view& text) {
  const std::size_t nl = text.find('\n');
  const std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

}  // namespace socksify::ascii
