// The futex calls the connect code waits with (private: the words are ours,
// in this process's memory).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>

#include <atomic>
#include <climits>
#include <cstdint>

#include "core/real.hpp"

namespace socksify {

// libc's syscall(), called through a type that may throw: glibc declares it
// __THROW (noexcept in C++), and a cancellation unwinding out of a call site
// the compiler took for noexcept would terminate the program (a blocking
// connect() waits in FUTEX_WAIT as a cancellation point). Not through our own
// syscall hook either (declared the same way).
using SyscallFn = long (*)(long, ...);

inline long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value) {
  const auto call = reinterpret_cast<SyscallFn>(REAL(syscall));
  return call(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op | FUTEX_PRIVATE_FLAG, value,
              nullptr, nullptr, 0);
}

inline void futex_wake_all(std::atomic<std::uint32_t>* word) {
  futex(word, FUTEX_WAKE, INT32_MAX);
}

}  // namespace socksify
