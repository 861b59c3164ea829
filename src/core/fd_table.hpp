// FdTable: which socket state (src/core/fd_state.hpp) each descriptor socksify
// manages refers to.
//
// The hot path (every interposed call on every descriptor) is get(): one bounds
// check and one atomic load, no lock. Descriptors we do not manage hold nullptr.
//
// A state is shared by every descriptor that refers to the same socket (dup,
// dup2, fcntl F_DUPFD...) and counted; it is released when the last one closes.
// States are recycled through a pool and never returned to malloc, so a thread
// that races a close() on the same descriptor (already a bug in the program)
// reads a stale state, never freed memory.
#pragma once

#include <atomic>
#include <mutex>

#include "core/fd_state.hpp"

namespace socksify {

class FdTable {
 public:
  static constexpr int kCapacity = 1 << 20;

  FdState* get(int fd) const noexcept {
    return static_cast<unsigned>(fd) < static_cast<unsigned>(kCapacity)
               ? slots_[fd].load(std::memory_order_acquire)
               : nullptr;
  }

  // A fresh state for fd (refs = 1, every part reset: FdState::reset),
  // replacing whatever fd had. nullptr when fd is out of range or memory ran out.
  FdState* create(int fd, FdState::Kind kind) noexcept;
  // dup: to now refers to from's state too (to's old state is released).
  void share(int from, int to) noexcept;
  // close: fd no longer refers to its state (released with its last
  // reference: FdState::release, then back to the pool).
  void release(int fd) noexcept;
  // close_range(first, last).
  void release_range(unsigned first, unsigned last) noexcept;

  // An extra reference held by someone other than a descriptor (the thread
  // that finishes a non-blocking connect), and its release.
  void hold(FdState* s) noexcept { s->refs.fetch_add(1, std::memory_order_relaxed); }
  void put(FdState* s) noexcept { unref(s); }

  // Live states, to skip work (close_range scans) when there are none.
  int live() const noexcept { return live_.load(std::memory_order_relaxed); }

  // pthread_atfork: the pool lock must not be held across fork.
  void lock_for_fork() noexcept { pool_mu_.lock(); }
  void unlock_after_fork() noexcept { pool_mu_.unlock(); }
  // In a forked child: another thread of the parent may have held a state's
  // lock at the fork, and no helper thread exists to finish a non-blocking
  // connect. Each state's parts make their locks anew (FdState::reset_in_child),
  // and connects in flight fail (ECONNABORTED): the parent's helper finishes
  // them for the parent, which owns them.
  void reset_in_child() noexcept;

 private:
  void unref(FdState* s) noexcept;

  std::atomic<FdState*> slots_[kCapacity] = {};
  std::mutex pool_mu_;
  FdState* free_ = nullptr;
  FdState* allocated_ = nullptr;  // all states, never freed (type-stable)
  std::atomic<int> live_{0};
};

FdTable& fd_table() noexcept;

}  // namespace socksify
