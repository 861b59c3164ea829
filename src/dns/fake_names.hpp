// FakeNames: a remote-DNS name table as the fake resolver (fake_resolver.hpp),
// the connect path (core/route.cpp) and the DNS stub's AddressSource
// (name_table_source.hpp) ask it: names to fake addresses and back.
//
// The address side lives here, once: the two ranges, lower-casing and the
// refusals every table shares (empty or over-long names, a family without a
// range, an output of the wrong size), and the arithmetic between an address
// and its number (the n-th name gets base + 1 + n in both ranges,
// fake_range.hpp). A table keeps only numbered names: the per-process
// NameTable (plain LD_PRELOAD), the tree-wide SharedNameTable, and
// core/tree_names.hpp's TreeNames, the one object of a process that picks
// between them (and attaches the tree's table lazily), so every resolver entry
// point of the library asks the same table. The semantics are NameTable's
// (name_table.hpp); the one difference of SharedNameTable (renewal instead of
// LRU refresh) is its own.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/cidr.hpp"
#include "base/endpoint.hpp"

namespace socksify {

class FakeNames {
 public:
  virtual ~FakeNames() = default;

  // The fake address of name (out: 4 or 16 bytes), allocating one if new.
  // False, writing nothing, for an empty name or one longer than 255 bytes
  // (RFC 1928 §5 cannot carry it), a family other than AF_INET/AF_INET6, an
  // out that is not exactly 4/16 bytes, an absent range, or a new name once
  // the table has no number for it. May throw std::bad_alloc (NameTable only;
  // the callers catch it).
  bool address_for(std::string_view name, int family, std::span<std::uint8_t> out);
  // Both addresses of name, sharing one number; absent ranges leave theirs
  // untouched (false, as address_for, and when both are absent).
  bool addresses_for(std::string_view name, std::span<std::uint8_t, 4> v4,
                     std::span<std::uint8_t, 16> v6);
  // The address of a name already held, claiming nothing.
  bool find_address(std::string_view name, int family, std::span<std::uint8_t> out) const;
  // The name behind a fake address, with port; empty when none holds it (or
  // addr is outside the ranges: then the table is not asked at all). A
  // v4-mapped IPv6 address counts as its IPv4 address.
  std::optional<Endpoint> endpoint_for(std::span<const std::uint8_t> addr,
                                       std::uint16_t port) const;
  // addr lies in one of the ranges (assigned or not), v4-mapped as above.
  bool in_range(std::span<const std::uint8_t> addr) const;

  // address_for() can succeed for family: its range is present (and, says
  // the table, it has room for a name).
  virtual bool serves(int family) const;
  // Every address has been handed out, and how many there are.
  virtual bool exhausted() const = 0;
  virtual std::uint64_t address_count() const = 0;

  // The table's side, for names already lower-cased and checked: the number
  // of a name, claiming one if new (nullopt: none left, or no room); the
  // number of a name held (claiming nothing); the name a number was given
  // to, copied into out (its length; 0 when none holds it or out is short).
  virtual std::optional<std::uint64_t> number_for(std::string_view lowered) = 0;
  virtual std::optional<std::uint64_t> held_number(std::string_view lowered) const = 0;
  virtual std::size_t name_of(std::uint64_t number, std::span<char> out) const = 0;

  // The ranges, normalized.
  const Cidr& v4_range() const { return v4_; }
  const Cidr& v6_range() const { return v6_; }

 protected:
  FakeNames() = default;
  FakeNames(const Cidr& v4, const Cidr& v6);
  FakeNames(const FakeNames&) = default;
  FakeNames& operator=(const FakeNames&) = default;

  Cidr v4_{}, v6_{};
};

}  // namespace socksify
