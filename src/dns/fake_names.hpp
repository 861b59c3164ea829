// FakeNames: what the fake resolver (fake_resolver.hpp), the connect path
// (core/route.cpp) and the DNS stub's AddressSource (name_table_source.hpp)
// ask of a remote-DNS name table. Implemented by the per-process NameTable
// (plain LD_PRELOAD), the tree-wide SharedNameTable, and core/tree_names.hpp's
// TreeNames, the one object of a process that picks between them (and attaches
// the tree's table lazily), so every resolver entry point of the library asks
// the same table. The semantics are NameTable's (name_table.hpp); the one
// difference of SharedNameTable (renewal instead of LRU refresh) is its own.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"

namespace socksify {

class FakeNames {
 public:
  virtual ~FakeNames() = default;

  // The fake address of name (out: 4 or 16 bytes), allocating one if new.
  // May throw std::bad_alloc (NameTable only; the callers catch it).
  virtual bool address_for(std::string_view name, int family, std::span<std::uint8_t> out) = 0;
  // Both addresses of name, sharing one number; absent ranges leave theirs untouched.
  virtual bool addresses_for(std::string_view name, std::span<std::uint8_t, 4> v4,
                             std::span<std::uint8_t, 16> v6) = 0;
  // The address of a name already held, claiming nothing.
  virtual bool find_address(std::string_view name, int family,
                            std::span<std::uint8_t> out) const = 0;
  // The name behind a fake address, with port; empty when none holds it.
  virtual std::optional<Endpoint> endpoint_for(std::span<const std::uint8_t> addr,
                                               std::uint16_t port) const = 0;
  // addr lies in one of the ranges (assigned or not).
  virtual bool in_range(std::span<const std::uint8_t> addr) const = 0;
  // address_for() can succeed for family.
  virtual bool serves(int family) const = 0;
  // Every address has been handed out, and how many there are.
  virtual bool exhausted() const = 0;
  virtual std::uint64_t address_count() const = 0;
};

}  // namespace socksify
