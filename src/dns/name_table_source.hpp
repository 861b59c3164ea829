// NameTableSource: the DNS stub's AddressSource over any FakeNames table, so
// that queries a program sends its resolvers get the same fake addresses
// getaddrinfo() hands out (issue 10 item 2). In the library it is built over
// the process's TreeNames (core/tree_names.hpp: Runtime::names()), which is
// the tree-wide table under the launcher with remote DNS and the per-process
// NameTable otherwise; dns_stub.hpp does not change.
#pragma once

#include "dns/dns_stub.hpp"
#include "dns/fake_names.hpp"

namespace socksify::dns {

class NameTableSource final : public AddressSource {
 public:
  explicit NameTableSource(FakeNames& table) : table_(table) {}

  // Found; NoAddress when the family's range is absent but the other serves
  // (the name has only the other kind of address); Unavailable when the table
  // cannot give any address (no range, capacity 0, no memory).
  Status address_for(std::string_view name, int family,
                     std::span<std::uint8_t> out) noexcept override;
  // NotFake outside the ranges, NoName for an address no name holds.
  Status name_for(std::span<const std::uint8_t> addr, std::span<char> out,
                  std::size_t* size) noexcept override;

 private:
  FakeNames& table_;
};

}  // namespace socksify::dns
