// Checks shared by the fake resolver's entry points on the names they are given.
#pragma once

#include <cstddef>
#include <cstring>
#include <optional>
#include <string_view>

#include "base/endpoint.hpp"

namespace socksify {

// The name as a view when it could be a host name worth sending to the proxy:
// 1..255 bytes (RFC 1928 §5 carries no more) with no control character or
// space (no resolver would find such a name, and it would garble logs).
// Bytes >= 0x80 pass: an internationalized name goes to the proxy as given.
inline std::optional<std::string_view> plausible_host_name(const char* name) {
  if (name == nullptr) return std::nullopt;
  const std::size_t len = strnlen(name, Endpoint::kMaxNameLength + 1);
  if (len == 0 || len > Endpoint::kMaxNameLength) return std::nullopt;
  for (std::size_t i = 0; i < len; ++i) {
    const auto ch = static_cast<unsigned char>(name[i]);
    if (ch <= 0x20 || ch == 0x7f) return std::nullopt;
  }
  return std::string_view(name, len);
}

}  // namespace socksify
