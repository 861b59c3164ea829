// NameTable: the remote-DNS bookkeeping. A host name gets a fake address from a
// reserved range and is remembered, so that connect()/sendto() to that address
// can send the *name* to the proxy, and getnameinfo() can map back.
// Thread-safe, bounded, and usable in a forked child (it is plain memory plus a
// mutex that the owner resets with pthread_atfork).
//
// Layout: slot index i owns the address  range base + 1 + i  in both ranges
// (the network address is never handed out, nor the last IPv4 address, which
// some stacks treat as a broadcast). A name's IPv4 and IPv6 addresses therefore
// share one slot and one lifetime.
//
// Reuse policy: least recently used. When every slot holds a name, a new name
// takes the slot of the name that was least recently passed to address_for()
// (or addresses_for()); that old name is forgotten and its addresses now mean
// the new name. Only resolving refreshes a name: endpoint_for() is a read and
// does not, so a program that resolves once and reconnects for a long time can
// lose its name after `capacity()` other names were resolved since. Size the
// table for the workload; the default ranges allow millions of names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/cidr.hpp"
#include "base/endpoint.hpp"

namespace socksify {

class NameTable {
 public:
  // capacity: most names remembered at once (also capped by the ranges' sizes).
  // A range whose family is 0 is absent: no address of that family is handed
  // out and it does not cap the capacity. A range that is malformed (family
  // does not match, prefix too long) or too small to hold one address yields a
  // capacity of 0, and then every address_for() fails.
  NameTable(const Cidr& v4_range, const Cidr& v6_range, std::size_t capacity);

  NameTable(const NameTable&) = delete;
  NameTable& operator=(const NameTable&) = delete;

  // The fake address (4 or 16 bytes written to out) for name, allocating one if
  // new. The same name always gets the same slot while it is remembered, and its
  // v4 and v6 addresses share the slot index. When full, the least recently used
  // name is forgotten and its slot reused (documented policy).
  // Names are compared case-insensitively (DNS names are, RFC 4343) and stored
  // lower-cased. Returns false, writing nothing, for an empty name or one longer
  // than 255 bytes (RFC 1928 §5 cannot carry it), for a family other than
  // AF_INET/AF_INET6, when out is not exactly 4/16 bytes, or when the family's
  // range is absent. May throw std::bad_alloc for a new name (the table is then
  // unchanged).
  bool address_for(std::string_view name, int family, std::span<std::uint8_t> out);

  // Both addresses of name under one lock, so they are guaranteed to share a
  // slot even while other threads churn the table. Absent ranges leave their
  // output untouched; returns false as address_for does (and when both ranges
  // are absent).
  bool addresses_for(std::string_view name, std::span<std::uint8_t, 4> v4,
                     std::span<std::uint8_t, 16> v6);

  // The fake address of a name the table already holds, without claiming a slot
  // or refreshing it (a datagram arriving from a name must not keep it alive).
  // False, writing nothing, when the name is not held or as address_for says.
  bool find_address(std::string_view name, int family, std::span<std::uint8_t> out) const;

  // The name behind a fake address, as an Endpoint with the given port, if the
  // address is assigned (a copy without allocation: the slot may be reused later).
  // addr is 4 or 16 bytes; a v4-mapped IPv6 address (::ffff:a.b.c.d) is looked
  // up as its IPv4 address, since AI_V4MAPPED results hand those out.
  std::optional<Endpoint> endpoint_for(std::span<const std::uint8_t> addr,
                                       std::uint16_t port) const;

  // True when addr lies inside one of the two ranges (whether assigned or not).
  // A v4-mapped IPv6 address counts as its IPv4 address.
  bool in_range(std::span<const std::uint8_t> addr) const;

  // Most names remembered at once, after capping by the ranges.
  std::size_t capacity() const { return capacity_; }

  // True when address_for() can succeed for family: its range is present and
  // the table has room for at least one name.
  bool serves(int family) const;

  // For pthread_atfork in the owner: lock in `prepare`, unlock in both `parent`
  // and `child` (the forking thread holds the lock, so the child may release it).
  void lock_for_fork();
  void unlock_after_fork();

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  struct Slot {
    // The key inside index_: map nodes never move, so the name is stored once.
    const std::string* name = nullptr;
    std::uint32_t newer = kNone;  // towards lru_head_
    std::uint32_t older = kNone;  // towards lru_tail_
  };

  // Lets index_ be searched with a string_view (no temporary std::string).
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  // The slot of name (already lower-cased), claiming one if needed; kNone when
  // full and capacity_ is 0. Requires mu_.
  std::uint32_t slot_for_locked(std::string_view lowered);
  void unlink_locked(std::uint32_t i);
  void push_front_locked(std::uint32_t i);
  // The slot index an address names (it may be beyond the slots in use).
  std::optional<std::uint64_t> index_of(std::span<const std::uint8_t> addr) const;
  void write_address(const Cidr& range, std::uint32_t index, std::span<std::uint8_t> out) const;

  Cidr v4_, v6_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> index_;
  std::vector<Slot> slots_;         // grows up to capacity_, never shrinks
  std::uint32_t lru_head_ = kNone;  // most recently used
  std::uint32_t lru_tail_ = kNone;  // least recently used: the next to be reused
};

}  // namespace socksify
