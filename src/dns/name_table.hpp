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

  // FakeNames' address side over this table: the same name always gets the
  // same number while it is remembered, and its v4 and v6 addresses share it.
  // When `capacity` names are held, the least recently resolved one is
  // forgotten; its number is never handed out again. Names are stored
  // lower-cased. number_for() may throw std::bad_alloc for a new name (the
  // table is then unchanged). held_number() neither claims nor refreshes (a
  // datagram arriving from a name must not keep it alive); name_of() is empty
  // for a number whose name was forgotten: it is never given to another name,
  // so "empty" is the only other answer.
  std::optional<std::uint64_t> number_for(std::string_view lowered) override;
  std::optional<std::uint64_t> held_number(std::string_view lowered) const override;
  std::size_t name_of(std::uint64_t number, std::span<char> out) const override;

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
