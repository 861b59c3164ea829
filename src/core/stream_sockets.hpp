// StreamSockets: which descriptors our socket() hook made as AF_INET/AF_INET6
// stream sockets, so that connect() on them need not ask the kernel for the
// socket's type (getsockopt SO_TYPE: one system call per connect, measurable
// on a loopback proxy: bench/connect_cycles_upstreams).
//
// A bit per descriptor number, set by socket() and cleared by every hook that
// ends a number or gives it another file (close, close_range, closefrom, the
// dup family, accept). A number a libc-internal close freed, reused by a call
// we do not hook (open, pipe, a libc-internal socket), may keep a stale bit;
// connect() would then take that descriptor for a TCP socket, and a connect of
// a non-socket or of a UDP socket made past our hooks would fail through the
// proxy instead of going as the kernel says: never around it. A clear bit
// only means "ask the kernel", as before.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/fd_table.hpp"

namespace socksify {

class StreamSockets {
 public:
  static constexpr int kCapacity = FdTable::kCapacity;

  bool is_stream(int fd) const noexcept {
    if (!in_range(fd)) return false;
    return (word(fd).load(std::memory_order_relaxed) & bit(fd)) != 0;
  }
  void set(int fd, bool stream) noexcept {
    if (!in_range(fd)) return;
    if (stream) {
      // Before the bit: forget_range never stops short of a set one.
      int high = high_.load(std::memory_order_relaxed);
      while (fd >= high && !high_.compare_exchange_weak(high, fd + 1, std::memory_order_relaxed)) {
      }
      word(fd).fetch_or(bit(fd), std::memory_order_relaxed);
    } else {
      forget(fd);
    }
  }
  // One load on the usual path: most closed descriptors never had the bit.
  void forget(int fd) noexcept {
    if (is_stream(fd)) word(fd).fetch_and(~bit(fd), std::memory_order_relaxed);
  }
  // Only up to the highest number ever set: closefrom(3) in a fork child
  // (Python's subprocess) must not write, and so fault in, all 128 KiB.
  void forget_range(unsigned first, unsigned last) noexcept {
    const unsigned high = static_cast<unsigned>(high_.load(std::memory_order_relaxed));
    if (high == 0) return;
    const unsigned end = last < high - 1u ? last : high - 1u;
    for (unsigned fd = first; fd <= end; ++fd) {
      if (fd % 64 == 0 && end - fd >= 63) {
        words_[fd / 64].store(0, std::memory_order_relaxed);
        fd += 63;
        continue;
      }
      forget(static_cast<int>(fd));
    }
  }

 private:
  static bool in_range(int fd) noexcept {
    return static_cast<unsigned>(fd) < static_cast<unsigned>(kCapacity);
  }
  static std::uint64_t bit(int fd) noexcept { return std::uint64_t{1} << (fd % 64); }
  std::atomic<std::uint64_t>& word(int fd) noexcept { return words_[fd / 64]; }
  const std::atomic<std::uint64_t>& word(int fd) const noexcept { return words_[fd / 64]; }

  std::atomic<int> high_{0};  // 1 + the highest number ever set
  std::atomic<std::uint64_t> words_[kCapacity / 64] = {};
};

// The process's (zero-initialized static storage: no constructor runs).
StreamSockets& stream_sockets() noexcept;

}  // namespace socksify
