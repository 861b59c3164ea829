#include "core/fd_table.hpp"

#include <new>

#include "core/own_fds.hpp"

namespace socksify {

FdTable& fd_table() noexcept {
  // Zero-initialised static storage: no constructor has to run before the first
  // hook, and untouched slots cost no memory (the pages are never faulted in).
  static FdTable table;
  return table;
}

FdState* FdTable::create(int fd, FdState::Kind kind) noexcept {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kCapacity)) return nullptr;
  // The first socket socksify manages: room for the descriptors it may open
  // for it (a pending connect's eventfd, a UDP association's control
  // connection) before its first helper thread exists (own_fds.hpp).
  own_fds().make_room(fd);
  FdState* s = nullptr;
  {
    std::lock_guard lock(pool_mu_);
    if (free_ != nullptr) {
      s = free_;
      free_ = s->next_free;
    }
  }
  if (s == nullptr) {
    s = new (std::nothrow) FdState;
    if (s == nullptr) return nullptr;
    std::lock_guard lock(pool_mu_);
    s->next_allocated = allocated_;
    allocated_ = s;
  }
  s->reset(kind);
  s->next_free = nullptr;
  s->refs.store(1, std::memory_order_relaxed);
  live_.fetch_add(1, std::memory_order_relaxed);
  FdState* old = slots_[fd].exchange(s, std::memory_order_acq_rel);
  if (old != nullptr) unref(old);
  return s;
}

void FdTable::share(int from, int to) noexcept {
  if (from == to || static_cast<unsigned>(to) >= static_cast<unsigned>(kCapacity)) return;
  FdState* s = get(from);
  if (s != nullptr) s->refs.fetch_add(1, std::memory_order_relaxed);
  FdState* old = slots_[to].exchange(s, std::memory_order_acq_rel);
  if (old != nullptr) unref(old);
}

void FdTable::release(int fd) noexcept {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kCapacity)) return;
  if (slots_[fd].load(std::memory_order_relaxed) == nullptr) return;
  FdState* old = slots_[fd].exchange(nullptr, std::memory_order_acq_rel);
  if (old != nullptr) unref(old);
}

void FdTable::release_range(unsigned first, unsigned last) noexcept {
  if (live() == 0) return;
  const unsigned end = last < static_cast<unsigned>(kCapacity) - 1 ? last : kCapacity - 1;
  for (unsigned fd = first; fd <= end && live() > 0; ++fd) release(static_cast<int>(fd));
}

void FdTable::reset_in_child() noexcept {
  // The child has one thread: nothing else can touch these states now.
  new (&pool_mu_) std::mutex;
  for (FdState* s = allocated_; s != nullptr; s = s->next_allocated) s->reset_in_child();
}

void FdTable::unref(FdState* s) noexcept {
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  s->release();
  live_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard lock(pool_mu_);
  s->next_free = free_;
  free_ = s;
}

}  // namespace socksify
