// NameTableSource: the DNS stub's AddressSource over today's per-process
// NameTable, so that queries a program sends its resolvers get the same fake
// addresses getaddrinfo() hands out (issue 10 item 2). The tree-wide table of
// item 1 replaces it by implementing AddressSource itself; dns_stub.hpp does
// not change.
#pragma once

#include "dns/dns_stub.hpp"
#include "dns/name_table.hpp"

namespace socksify::dns {

class NameTableSource final : public AddressSource {
 public:
  explicit NameTableSource(NameTable& table) : table_(table) {}

  // Found; NoAddress when the family's range is absent but the other serves
  // (the name has only the other kind of address); Unavailable when the table
  // cannot give any address (no range, capacity 0, no memory).
  Status address_for(std::string_view name, int family,
                     std::span<std::uint8_t> out) noexcept override;
  // NotFake outside the ranges, NoName for an address no name holds.
  Status name_for(std::span<const std::uint8_t> addr, std::span<char> out,
                  std::size_t* size) noexcept override;

 private:
  NameTable& table_;
};

}  // namespace socksify::dns
