#include "core/fd_table.hpp"

#include <errno.h>

#include <new>

#include "core/own_fds.hpp"
#include "core/real.hpp"

namespace socksify {

FdTable& fd_table() noexcept {
  // Zero-initialised static storage: no constructor has to run before the first
  // hook, and untouched slots cost no memory (the pages are never faulted in).
  static FdTable table;
  return table;
}

FdState* FdTable::create(int fd, FdState::Kind kind) noexcept {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kCapacity)) return nullptr;
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
  s->kind = kind;
  s->peer = {};
  s->peer_len = 0;
  s->bound = {};
  s->bound_len = 0;
  s->local = {};
  s->local_len = 0;
  s->udp.store(nullptr, std::memory_order_relaxed);
  s->udp_direct_peer.store(false, std::memory_order_relaxed);
  s->dns.store(nullptr, std::memory_order_relaxed);
  s->pending.store(false, std::memory_order_relaxed);
  s->connect_error = 0;
  s->error_reported = false;
  s->done_fd.store(-1, std::memory_order_relaxed);
  s->pollers.store(0, std::memory_order_relaxed);
  s->job.store(nullptr, std::memory_order_relaxed);
  s->blocking_connect = false;
  s->n_watchers = 0;
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
  for (FdState* s = allocated_; s != nullptr; s = s->next_allocated) {
    new (&s->mu) std::mutex;
    new (&s->udp_mu) std::mutex;
    if (s->pending.load(std::memory_order_relaxed)) {
      s->pending.store(false, std::memory_order_relaxed);
      s->connect_error = ECONNABORTED;
      s->error_reported = false;
      s->n_watchers = 0;
    }
  }
}

void FdTable::unref(FdState* s) noexcept {
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (UdpAssociation* udp = s->udp.exchange(nullptr, std::memory_order_acq_rel)) {
    release_udp_association(udp);
  }
  if (DnsSocket* dns = s->dns.exchange(nullptr, std::memory_order_acq_rel)) {
    release_dns_socket(dns);
  }
  // The eventfd is one of socksify's own descriptors (src/core/own_fds.hpp).
  if (s->done_fd.load(std::memory_order_relaxed) >= 0) close_own_fd(s->done_fd);
  live_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard lock(pool_mu_);
  s->next_free = free_;
  free_ = s;
}

}  // namespace socksify
