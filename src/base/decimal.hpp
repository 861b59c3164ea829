// Decimal numbers in text we are given (ports, prefix lengths, timeouts,
// service strings, /proc/self/fd names): digits only, no sign, space or base
// prefix; locale-free and allocation-free, so hooks may use it too.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.hpp"

namespace socksify {

enum class DecimalError : std::uint8_t {
  Empty,      // no characters
  NotDigits,  // a character other than 0-9 (anywhere: "99999x" is this, not TooLarge)
  TooLarge,   // all digits, but above the maximum (never overflows, however long)
};

// The value of text, if it is all decimal digits and at most max.
inline Result<std::uint64_t, DecimalError> parse_decimal(std::string_view text, std::uint64_t max) {
  if (text.empty()) return DecimalError::Empty;
  std::uint64_t value = 0;
  bool too_large = false;
  for (const char c : text) {
    if (c < '0' || c > '9') return DecimalError::NotDigits;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (too_large || digit > max || value > (max - digit) / 10) {
      too_large = true;
    } else {
      value = value * 10 + digit;
    }
  }
  if (too_large) return DecimalError::TooLarge;
  return value;
}

}  // namespace socksify
