// The arithmetic of a remote-DNS address range (240.0.0.0/4, 100::/64, or what
// the configuration says): which addresses may be handed out, the n-th one,
// and back from an address to its number. Shared by the per-process NameTable
// and the tree-wide SharedNameTable, so both number the same way: the n-th
// name gets  base + 1 + n  (the network address is never handed out, nor the
// last IPv4 address, which some stacks treat as a broadcast). Pure.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>

#include "base/cidr.hpp"
#include "base/v4_mapped.hpp"

namespace socksify::fake_range {

inline std::size_t address_size(const Cidr& c) {
  if (c.family == AF_INET) return 4;
  if (c.family == AF_INET6) return 16;
  return 0;
}

// A range of family 0 is not configured: no address of that family.
inline bool is_absent(const Cidr& c) {
  return c.family == 0;
}

inline bool is_valid(const Cidr& c) {
  const std::size_t size = address_size(c);
  return size != 0 && c.prefix <= size * 8;
}

// Mask of the network bits of byte b for a prefix length.
inline std::uint8_t network_mask(std::uint8_t prefix, std::size_t b) {
  const std::size_t bits_before = b * 8;
  if (prefix >= bits_before + 8) return 0xff;
  if (prefix <= bits_before) return 0;
  return static_cast<std::uint8_t>(0xff << (8 - (prefix - bits_before)));
}

// How many addresses of c may be handed out: all but the network address, and
// for IPv4 also all but the last one.
inline std::uint64_t usable_addresses(const Cidr& c) {
  if (!is_valid(c)) return 0;
  const unsigned host_bits = static_cast<unsigned>(address_size(c) * 8 - c.prefix);
  const std::uint64_t reserved = c.family == AF_INET ? 2 : 1;
  if (host_bits >= 63) return std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t total = std::uint64_t{1} << host_bits;
  return total > reserved ? total - reserved : 0;
}

// A range with its host bits cleared, so that OR-ing a host number into it
// gives an address inside it even if the caller left junk there.
inline Cidr normalized(const Cidr& c) {
  Cidr out = c;
  if (!is_valid(c)) return out;
  for (std::size_t b = 0; b < address_size(c); ++b) out.bytes[b] &= network_mask(c.prefix, b);
  return out;
}

inline bool matches(const Cidr& c, const std::uint8_t* addr, std::size_t size) {
  if (!is_valid(c) || address_size(c) != size) return false;
  for (std::size_t b = 0; b < size; ++b) {
    if ((addr[b] & network_mask(c.prefix, b)) != c.bytes[b]) return false;
  }
  return true;
}

// The host part of addr as a number; nullopt when it does not fit 64 bits
// (possible only in IPv6 ranges, and never an assigned address).
inline std::optional<std::uint64_t> host_number(const Cidr& c, const std::uint8_t* addr,
                                                std::size_t size) {
  std::uint64_t n = 0;
  for (std::size_t b = 0; b < size; ++b) {
    const std::uint8_t host = addr[b] & static_cast<std::uint8_t>(~network_mask(c.prefix, b));
    if (b + 8 < size) {
      if (host != 0) return std::nullopt;
      continue;
    }
    n = (n << 8) | host;
  }
  return n;
}

// The address of number n (0, 1, ...) in a normalized range: base + 1 + n.
// The caller keeps n below usable_addresses(range).
inline void write_address(const Cidr& range, std::uint64_t number, std::span<std::uint8_t> out) {
  const std::size_t size = address_size(range);
  std::memcpy(out.data(), range.bytes, size);
  std::uint64_t n = number + 1;
  for (std::size_t b = size; b-- > 0 && n != 0; n >>= 8) {
    out[b] |= static_cast<std::uint8_t>(n & 0xff);
  }
}

// The number (0, 1, ...) of an address of either range (an IPv4 one also as
// ::ffff:a.b.c.d); nullopt when it is in neither, or is a network address. It
// may never have been handed out: callers check it against what they hold.
inline std::optional<std::uint64_t> number_of(const Cidr& v4, const Cidr& v6,
                                              std::span<const std::uint8_t> addr) {
  std::optional<std::uint64_t> n;
  if (addr.size() == 4 && matches(v4, addr.data(), 4)) {
    n = host_number(v4, addr.data(), 4);
  } else if (is_v4_mapped(addr) && matches(v4, addr.data() + 12, 4)) {
    n = host_number(v4, addr.data() + 12, 4);
  } else if (addr.size() == 16 && matches(v6, addr.data(), 16)) {
    n = host_number(v6, addr.data(), 16);
  }
  if (!n || *n == 0) return std::nullopt;  // outside, or the network address
  return *n - 1;
}

}  // namespace socksify::fake_range
