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

}  // namespace

NameTable::NameTable(const Cidr& v4_range, const Cidr& v6_range, std::size_t capacity)
    : FakeNames(v4_range, v6_range), capacity_(0) {
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

std::optional<std::uint64_t> NameTable::number_for(std::string_view lowered) {
  std::lock_guard lock(mu_);
  const std::uint32_t i = slot_for_locked(lowered);
  if (i == kNone) return std::nullopt;
  return slots_[i].number;
}

std::optional<std::uint64_t> NameTable::held_number(std::string_view lowered) const {
  std::lock_guard lock(mu_);
  const auto it = index_.find(lowered);
  if (it == index_.end()) return std::nullopt;
  return slots_[it->second].number;
}

std::size_t NameTable::name_of(std::uint64_t number, std::span<char> out) const {
  std::lock_guard lock(mu_);
  const auto it = by_number_.find(number);
  if (it == by_number_.end()) return 0;  // never handed out, or forgotten
  const std::string& name = *slots_[it->second].name;
  if (name.size() > out.size()) return 0;
  std::copy(name.begin(), name.end(), out.begin());
  return name.size();
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
  return capacity_ != 0 && FakeNames::serves(family);
}

void NameTable::lock_for_fork() {
  mu_.lock();
}

void NameTable::unlock_after_fork() {
  mu_.unlock();
}

}  // namespace socksify
