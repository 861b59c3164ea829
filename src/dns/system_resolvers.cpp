#include "dns/system_resolvers.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "base/ascii.hpp"

namespace socksify::dns {
namespace {

// An IPv4 or IPv6 literal on port 53; Kind::None otherwise.
Endpoint parse_address(std::string_view word) {
  // resolv.conf(5): an IPv6 address may carry a scope ("fe80::1%eth0"); the
  // socket's address then has the same bytes, which is what we compare.
  word = word.substr(0, word.find('%'));
  char text[INET6_ADDRSTRLEN + 1] = {};
  if (word.empty() || word.size() >= sizeof text) return {};
  std::copy(word.begin(), word.end(), text);
  std::uint8_t bytes[16];
  if (inet_pton(AF_INET, text, bytes) == 1) {
    return Endpoint::ipv4(std::span<const std::uint8_t, 4>(bytes, 4), kDnsPort);
  }
  if (inet_pton(AF_INET6, text, bytes) == 1) {
    return Endpoint::ipv6(std::span<const std::uint8_t, 16>(bytes, 16), kDnsPort);
  }
  return {};
}

Endpoint literal(const char* text) {
  return parse_address(text);
}

}  // namespace

void SystemResolvers::add(const Endpoint& ep, std::size_t limit) noexcept {
  const Endpoint plain = ep.unmapped();
  if (plain.kind() == Endpoint::Kind::None || count_ >= limit) return;
  if (std::find(list_.begin(), list_.begin() + count_, plain) != list_.begin() + count_) return;
  list_[count_++] = plain;
}

SystemResolvers SystemResolvers::parse(std::string_view text) {
  SystemResolvers r;
  while (!text.empty()) {
    std::string_view line = ascii::next_line(text);
    // A comment starts with '#' or ';' in the first column (resolv.conf(5)).
    if (!line.empty() && (line[0] == '#' || line[0] == ';')) continue;
    if (ascii::next_word(line) != "nameserver") continue;
    r.add(parse_address(ascii::next_word(line)), kMax);
  }
  const bool none = r.count_ == 0;
  r.add(literal("127.0.0.53"), r.list_.size());
  if (none) {
    r.add(literal("127.0.0.1"), r.list_.size());
    r.add(literal("::1"), r.list_.size());
  }
  return r;
}

bool SystemResolvers::contains(const Endpoint& addr) const noexcept {
  if (addr.port() != kDnsPort || !addr.is_ip()) return false;
  Endpoint plain = addr.unmapped();
  return std::find(list_.begin(), list_.begin() + count_, plain) != list_.begin() + count_;
}

bool SystemResolvers::contains(const sockaddr* addr, socklen_t len) const noexcept {
  const auto ep = Endpoint::from_sockaddr(addr, len);
  return ep && contains(*ep);
}

}  // namespace socksify::dns
