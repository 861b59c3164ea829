// NameTable: the remote-DNS bookkeeping. A host name gets a fake address from a
// reserved range and is remembered, so that connect()/sendto() to that address
// can send the *name* to the proxy, and getnameinfo() can map back.
// Thread-safe, bounded, and usable in a forked child (it is plain memory plus a
// mutex that the owner resets with pthread_atfork).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "core/endpoint.hpp"

namespace socksify {

class NameTable {
 public:
  // capacity: most names remembered at once (also capped by the ranges' sizes).
  NameTable(const Cidr& v4_range, const Cidr& v6_range, std::size_t capacity);

  // The fake address (4 or 16 bytes written to out) for name, allocating one if
  // new. The same name always gets the same slot while it is remembered, and its
  // v4 and v6 addresses share the slot index. When full, the least recently used
  // name is forgotten and its slot reused (documented policy).
  // Names are compared case-insensitively (DNS names are).
  void address_for(std::string_view name, int family, std::span<std::uint8_t> out);

  // The name behind a fake address, as an Endpoint with the given port, if the
  // address is assigned (a copy without allocation: the slot may be reused later).
  std::optional<Endpoint> endpoint_for(std::span<const std::uint8_t> addr,
                                       std::uint16_t port) const;

  // True when addr lies inside one of the two ranges (whether assigned or not).
  bool in_range(std::span<const std::uint8_t> addr) const;

  // For pthread_atfork in the owner.
  void lock_for_fork();
  void unlock_after_fork();

 private:
  // (implementation's choice)
  struct Slot;
  Cidr v4_, v6_;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Slot*> slots_;  // placeholder; implementation may change privates
};

}  // namespace socksify
