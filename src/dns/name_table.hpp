// NameTable: the remote-DNS bookkeeping. A host name gets a fake address from a
// reserved range and is remembered, so that connect()/sendto() to that address
// can send the *name* to the proxy, and getnameinfo() can map back.
// Thread-safe, bounded, and usable in a forked child (it is plain memory plus a
// mutex that the owner resets with pthread_atfork).
//
// Addresses: the n-th new name (n = 0, 1, ...) gets  base + 1 + n  in both
// ranges (the network address is never handed out, nor the last IPv4 address,
// which some stacks treat as a broadcast). A name's IPv4 and IPv6 addresses
// therefore share one number and one lifetime.
//
// An address is never handed to a second name. A program may keep an address
// long after resolving it (a connection pool, a cached lookup); were it given
// to another name, that program would connect to another host. So numbers only
// grow, over the whole of the ranges (268 million for 240.0.0.0/4), and:
// - memory is bounded: at most `capacity` names are held; beyond that the
//   least recently resolved name is forgotten. Its address then maps to no
//   name (endpoint_for() is empty, and a connect to it fails closed), and the
//   name, resolved again, gets a new address;
// - when the ranges are used up, new names get no address (address_for()
//   fails, exhausted() is true) rather than someone else's old one.
// Only resolving refreshes a name: endpoint_for() is a read and does not.
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
#include "dns/fake_names.hpp"

namespace socksify {

class NameTable final : public FakeNames {
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
  // new. The same name always gets the same address while it is remembered, and
  // its v4 and v6 addresses share the number. When `capacity` names are held, the
  // least recently used one is forgotten; its address is never handed out again.
  // Names are compared case-insensitively (DNS names are, RFC 4343) and stored
  // lower-cased. Returns false, writing nothing, for an empty name or one longer
  // than 255 bytes (RFC 1928 §5 cannot carry it), for a family other than
  // AF_INET/AF_INET6, when out is not exactly 4/16 bytes, when the family's
  // range is absent, or for a new name once the ranges are used up. May throw
  // std::bad_alloc for a new name (the table is then unchanged).
  bool address_for(std::string_view name, int family, std::span<std::uint8_t> out) override;

  // Both addresses of name under one lock, so they are guaranteed to share a
  // number even while other threads churn the table. Absent ranges leave their
  // output untouched; returns false as address_for does (and when both ranges
  // are absent).
  bool addresses_for(std::string_view name, std::span<std::uint8_t, 4> v4,
                     std::span<std::uint8_t, 16> v6) override;

  // The fake address of a name the table already holds, without claiming a slot
  // or refreshing it (a datagram arriving from a name must not keep it alive).
  // False, writing nothing, when the name is not held or as address_for says.
  bool find_address(std::string_view name, int family, std::span<std::uint8_t> out) const override;

  // The name behind a fake address, as an Endpoint with the given port, if the
  // address was handed out and its name is still held (a copy without
  // allocation). Empty for an address whose name was forgotten: it is never
  // given to another name, so "empty" is the only other answer.
  // addr is 4 or 16 bytes; a v4-mapped IPv6 address (::ffff:a.b.c.d) is looked
  // up as its IPv4 address, since AI_V4MAPPED results hand those out.
  std::optional<Endpoint> endpoint_for(std::span<const std::uint8_t> addr,
                                       std::uint16_t port) const override;

  // True when addr lies inside one of the two ranges (whether assigned or not).
  // A v4-mapped IPv6 address counts as its IPv4 address.
  bool in_range(std::span<const std::uint8_t> addr) const override;

  // Most names remembered at once, after capping by the ranges.
  std::size_t capacity() const { return capacity_; }

  // Names held now (at most capacity()).
  std::size_t size() const;

  // How many addresses the ranges give in all (each to one name, ever), and
  // whether every one of them has been handed out: new names then fail.
  std::uint64_t address_count() const override { return addresses_; }
  bool exhausted() const override;

  // True when address_for() can succeed for family: its range is present and
  // the table has room for at least one name.
  bool serves(int family) const override;

  // For pthread_atfork in the owner: lock in `prepare`, unlock in both `parent`
  // and `child` (the forking thread holds the lock, so the child may release it).
  void lock_for_fork();
  void unlock_after_fork();

 private:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  // One held name. Slots are storage, recycled when a name is forgotten;
  // addresses are not.
  struct Slot {
    // The key inside index_: map nodes never move, so the name is stored once.
    const std::string* name = nullptr;
    std::uint64_t number = 0;     // the address number: base + 1 + number
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

  // The slot of name (already lower-cased), claiming one and a new address
  // number if needed; kNone when capacity_ is 0 or the ranges are used up.
  // Requires mu_.
  std::uint32_t slot_for_locked(std::string_view lowered);
  void unlink_locked(std::uint32_t i);
  void push_front_locked(std::uint32_t i);
  // The address number an address carries (it may never have been handed out).
  std::optional<std::uint64_t> number_of(std::span<const std::uint8_t> addr) const;

  Cidr v4_, v6_;
  std::size_t capacity_;
  std::uint64_t addresses_ = 0;  // numbers 0 .. addresses_-1 fit both ranges
  mutable std::mutex mu_;
  std::uint64_t next_number_ = 0;  // the next new name's; only grows
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> index_;
  std::unordered_map<std::uint64_t, std::uint32_t> by_number_;  // held names only
  std::vector<Slot> slots_;         // grows up to capacity_, never shrinks
  std::uint32_t lru_head_ = kNone;  // most recently used
  std::uint32_t lru_tail_ = kNone;  // least recently used: the next to be reused
};

}  // namespace socksify
