#include "dns/name_table.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "base/ascii.hpp"
#include "base/v4_mapped.hpp"
#include "dns/fake_range.hpp"

namespace socksify {

namespace {

using namespace fake_range;

// What both lookups check first: the range serving `family`, if `out` holds
// one of its addresses and `name` can be sent to a proxy; `name` lower-cased
// into `buf` (DNS names compare case-insensitively). nullptr: refuse.
const Cidr* prepare_lookup(const Cidr& v4, const Cidr& v6, int family, std::size_t out_size,
                           std::string_view name, std::array<char, Endpoint::kMaxNameLength>& buf) {
  const Cidr* range = family == AF_INET ? &v4 : family == AF_INET6 ? &v6 : nullptr;
  if (range == nullptr || is_absent(*range) || out_size != address_size(*range)) return nullptr;
  if (name.empty() || name.size() > Endpoint::kMaxNameLength) return nullptr;
  std::transform(name.begin(), name.end(), buf.begin(), ascii::lower);
  return range;
}

}  // namespace

NameTable::NameTable(const Cidr& v4_range, const Cidr& v6_range, std::size_t capacity)
    : v4_(normalized(v4_range)), v6_(normalized(v6_range)), capacity_(0) {
  const bool v4_ok = is_absent(v4_) || (v4_.family == AF_INET && is_valid(v4_));
  const bool v6_ok = is_absent(v6_) || (v6_.family == AF_INET6 && is_valid(v6_));
  if (!v4_ok || !v6_ok || (is_absent(v4_) && is_absent(v6_))) return;
  // A number names an address in both ranges, so the smaller range decides.
  std::uint64_t addresses = std::numeric_limits<std::uint64_t>::max();
  if (!is_absent(v4_)) addresses = std::min(addresses, usable_addresses(v4_));
  if (!is_absent(v6_)) addresses = std::min(addresses, usable_addresses(v6_));
  addresses_ = addresses;
  // Slot indexes are 32-bit and kNone is reserved.
  const std::uint64_t cap = std::min<std::uint64_t>({capacity, addresses, kNone - 1});
  capacity_ = static_cast<std::size_t>(cap);
  if (capacity_ == 0) addresses_ = 0;
}

void NameTable::unlink_locked(std::uint32_t i) {
  Slot& s = slots_[i];
  if (s.newer != kNone) slots_[s.newer].older = s.older;
  if (s.older != kNone) slots_[s.older].newer = s.newer;
  if (lru_head_ == i) lru_head_ = s.older;
  if (lru_tail_ == i) lru_tail_ = s.newer;
  s.newer = s.older = kNone;
}

void NameTable::push_front_locked(std::uint32_t i) {
  Slot& s = slots_[i];
  s.newer = kNone;
  s.older = lru_head_;
  if (lru_head_ != kNone) slots_[lru_head_].newer = i;
  lru_head_ = i;
  if (lru_tail_ == kNone) lru_tail_ = i;
}

std::uint32_t NameTable::slot_for_locked(std::string_view lowered) {
  if (auto it = index_.find(lowered); it != index_.end()) {
    unlink_locked(it->second);
    push_front_locked(it->second);
    return it->second;
  }
  // Used up: a new name gets no address rather than one another name had.
  if (capacity_ == 0 || next_number_ >= addresses_) return kNone;
  const std::uint64_t number = next_number_;

  // Every step that may throw runs before the first change to the table, so a
  // bad_alloc leaves it as it was.
  std::string key(lowered);
  if (slots_.size() < capacity_) {
    if (slots_.size() == slots_.capacity()) {
      slots_.reserve(std::min(capacity_, std::max<std::size_t>(64, slots_.size() * 2)));
    }
    const auto i = static_cast<std::uint32_t>(slots_.size());
    auto [it, inserted] = index_.emplace(std::move(key), i);
    try {
      by_number_.emplace(number, i);
    } catch (...) {
      index_.erase(it);
      throw;
    }
    slots_.push_back(Slot{&it->first, number});  // cannot throw: reserved above
    push_front_locked(i);
    ++next_number_;
    return i;
  }

  // Full: forget the least recently used name. Its slot (storage) takes the
  // new name; its address number is retired with it, for good. Moving the map
  // nodes to their new keys keeps them (and Slot::name) in place and allocates
  // nothing more; re-inserting a node into a map that just lost one never
  // rehashes.
  const std::uint32_t i = lru_tail_;
  auto node = index_.extract(*slots_[i].name);
  node.key() = std::move(key);
  auto result = index_.insert(std::move(node));
  auto number_node = by_number_.extract(slots_[i].number);
  number_node.key() = number;
  by_number_.insert(std::move(number_node));
  slots_[i].name = &result.position->first;
  slots_[i].number = number;
  unlink_locked(i);
  push_front_locked(i);
  ++next_number_;
  return i;
}

bool NameTable::address_for(std::string_view name, int family, std::span<std::uint8_t> out) {
  std::array<char, Endpoint::kMaxNameLength> lowered;
  const Cidr* range = prepare_lookup(v4_, v6_, family, out.size(), name, lowered);
  if (range == nullptr) return false;
  std::lock_guard lock(mu_);
  const std::uint32_t i = slot_for_locked({lowered.data(), name.size()});
  if (i == kNone) return false;
  write_address(*range, slots_[i].number, out);
  return true;
}

bool NameTable::find_address(std::string_view name, int family, std::span<std::uint8_t> out) const {
  std::array<char, Endpoint::kMaxNameLength> lowered;
  const Cidr* range = prepare_lookup(v4_, v6_, family, out.size(), name, lowered);
  if (range == nullptr) return false;
  std::lock_guard lock(mu_);
  const auto it = index_.find(std::string_view(lowered.data(), name.size()));
  if (it == index_.end()) return false;
  write_address(*range, slots_[it->second].number, out);
  return true;
}

bool NameTable::addresses_for(std::string_view name, std::span<std::uint8_t, 4> v4,
                              std::span<std::uint8_t, 16> v6) {
  if (name.empty() || name.size() > Endpoint::kMaxNameLength) return false;
  if (is_absent(v4_) && is_absent(v6_)) return false;

  std::array<char, Endpoint::kMaxNameLength> lowered;
  std::transform(name.begin(), name.end(), lowered.begin(), ascii::lower);
  std::lock_guard lock(mu_);
  const std::uint32_t i = slot_for_locked({lowered.data(), name.size()});
  if (i == kNone) return false;
  if (!is_absent(v4_)) write_address(v4_, slots_[i].number, v4);
  if (!is_absent(v6_)) write_address(v6_, slots_[i].number, v6);
  return true;
}

std::optional<std::uint64_t> NameTable::number_of(std::span<const std::uint8_t> addr) const {
  return fake_range::number_of(v4_, v6_, addr);
}

std::optional<Endpoint> NameTable::endpoint_for(std::span<const std::uint8_t> addr,
                                                std::uint16_t port) const {
  const auto number = number_of(addr);
  if (!number) return std::nullopt;
  std::lock_guard lock(mu_);
  const auto it = by_number_.find(*number);
  if (it == by_number_.end()) return std::nullopt;  // never handed out, or forgotten
  return Endpoint::name(*slots_[it->second].name, port);
}

bool NameTable::in_range(std::span<const std::uint8_t> addr) const {
  if (addr.size() == 4) return matches(v4_, addr.data(), 4);
  if (is_v4_mapped(addr)) return matches(v4_, addr.data() + 12, 4);
  return addr.size() == 16 && matches(v6_, addr.data(), 16);
}

std::size_t NameTable::size() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

bool NameTable::exhausted() const {
  std::lock_guard lock(mu_);
  return next_number_ >= addresses_;
}

bool NameTable::serves(int family) const {
  if (capacity_ == 0) return false;
  if (family == AF_INET) return !is_absent(v4_);
  if (family == AF_INET6) return !is_absent(v6_);
  return false;
}

void NameTable::lock_for_fork() {
  mu_.lock();
}

void NameTable::unlock_after_fork() {
  mu_.unlock();
}

}  // namespace socksify
