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

}  // namespace socksify::ascii
