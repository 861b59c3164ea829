// parse_cidr: IP networks for fake ranges and direct rules.
#include "base/cidr.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "base/decimal.hpp"

namespace socksify {

Result<Cidr, Message> parse_cidr(std::string_view text) {
  if (text.empty()) return Message{"empty network (expected e.g. 10.0.0.0/8 or fd00::/8)"};
  const std::size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  // inet_pton needs a NUL-terminated string; INET6_ADDRSTRLEN bounds any valid one.
  if (addr_text.empty() || addr_text.size() >= INET6_ADDRSTRLEN) {
    return Message{fmt::format("invalid network address '{}'", addr_text)};
  }
  char buf[INET6_ADDRSTRLEN] = {};
  std::memcpy(buf, addr_text.data(), addr_text.size());

  Cidr cidr;
  unsigned max_prefix = 0;
  if (addr_text.find(':') != std::string_view::npos) {
    if (inet_pton(AF_INET6, buf, cidr.bytes) != 1) {
      return Message{fmt::format("invalid IPv6 address '{}'", addr_text)};
    }
    cidr.family = AF_INET6;
    max_prefix = 128;
  } else {
    if (inet_pton(AF_INET, buf, cidr.bytes) != 1) {
      return Message{fmt::format("invalid IPv4 address '{}'", addr_text)};
    }
    cidr.family = AF_INET;
    max_prefix = 32;
  }

  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    const auto n = parse_decimal(p, 999);
    if (p.size() > 3 || !n) {
      return Message{fmt::format("invalid prefix length '{}' (expected 0..{})", p, max_prefix)};
    }
    prefix = static_cast<unsigned>(*n);
    if (prefix > max_prefix) {
      return Message{fmt::format("prefix length {} out of range (0..{})", prefix, max_prefix)};
    }
  }
  cidr.prefix = static_cast<std::uint8_t>(prefix);

  // Host bits set usually means a typo in the prefix ("10.1.0.0/8"); refusing
  // it beats silently matching a network the user did not write.
  const unsigned len = max_prefix / 8;
  for (unsigned i = 0; i < len; ++i) {
    const unsigned bit_start = i * 8;
    std::uint8_t host_mask = 0xff;
    if (bit_start + 8 <= prefix) {
      host_mask = 0;
    } else if (bit_start < prefix) {
      host_mask = static_cast<std::uint8_t>(0xff >> (prefix - bit_start));
    }
    if ((cidr.bytes[i] & host_mask) != 0) {
      return Message{
          fmt::format("host bits set in '{}' (the address must be the network's first)", text)};
    }
  }
  return cidr;
}

}  // namespace socksify
