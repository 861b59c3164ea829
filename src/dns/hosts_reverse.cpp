#include "dns/hosts_reverse.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "base/ascii.hpp"

namespace socksify {
std::optional<std::string_view> hosts_name_for(std::string_view text,
                                               std::span<const std::uint8_t> addr) noexcept {
  if (addr.size() != 4 && addr.size() != 16) return std::nullopt;
  const int family = addr.size() == 4 ? AF_INET : AF_INET6;
  while (!text.empty()) {
    std::string_view line = ascii::next_line(text);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    const std::string_view address = ascii::next_word(line);
    const std::string_view name = ascii::next_word(line);
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
