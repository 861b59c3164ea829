// Helpers shared by the SOCKS5 unit tests: build wire bytes from readable
// literals and compare them with readable failure output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace socksify::socks5::testing {

using Bytes = std::vector<std::byte>;

inline Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  out.reserve(values.size());
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

inline Bytes text(std::string_view s) {
  Bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline std::span<const std::byte> prefix(const Bytes& b, std::size_t n) {
  return std::span<const std::byte>(b).first(n);
}

// "05 01 00": compare through this so a mismatch prints readable bytes.
inline std::string hex(std::span<const std::byte> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0) out += ' ';
    const auto v = static_cast<std::uint8_t>(b[i]);
    out += kDigits[v >> 4];
    out += kDigits[v & 0xF];
  }
  return out;
}

}  // namespace socksify::socks5::testing
