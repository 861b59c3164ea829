#include "dns/hosts_reverse.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace socksify {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// The next whitespace-separated field of line, removed from it.
std::string_view next_field(std::string_view& line) {
  std::size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  std::size_t j = i;
  while (j < line.size() && !is_space(line[j])) ++j;
  const std::string_view field = line.substr(i, j - i);
  line.remove_prefix(j);
  return field;
}

}  // namespace

std::optional<std::string_view> hosts_name_for(std::string_view text,
                                               std::span<const std::uint8_t> addr) noexcept {
  if (addr.size() != 4 && addr.size() != 16) return std::nullopt;
  const int family = addr.size() == 4 ? AF_INET : AF_INET6;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::string_view address = next_field(line);
    const std::string_view name = next_field(line);
    if (address.empty() || name.empty() || address.size() >= 64) continue;
    char text_addr[64];
    std::memcpy(text_addr, address.data(), address.size());
    text_addr[address.size()] = '\0';
    std::uint8_t bytes[16];
    if (inet_pton(family, text_addr, bytes) != 1) continue;
    if (std::memcmp(bytes, addr.data(), addr.size()) == 0) return name;
  }
  return std::nullopt;
}

}  // namespace socksify
