// Interposed entry points: C linkage, default visibility (everything else in the
// library is hidden), and a uniform way back to the C calling convention.
#pragma once

#include <cxxabi.h>
#include <errno.h>
#include <sys/types.h>

#include <concepts>
#include <cstddef>

#include "base/result.hpp"
#include "core/errno_saver.hpp"
#include "socksify/socksify.h"

#define SOCKSIFY_HOOK extern "C" __attribute__((visibility("default")))

// The R-prefixed name of a hook (include/socksify/socksify.h): another symbol
// for the same code, so a call to Rconnect is socksify's connect even where
// the plain name binds to libc (library loaded with dlopen(RTLD_LOCAL)). Must
// follow the hook's definition in the same file; decltype keeps the two types
// identical, and the public header's declaration is checked against it.
#define SOCKSIFY_R_NAME(hook) \
  extern "C"                  \
      __attribute__((visibility("default"), alias(#hook), copy(hook))) decltype(hook) R##hook;

namespace socksify {

// 0 with errno untouched, or -1 with errno set: the libc convention.
inline int to_c(const Status& s) {
  if (s) return 0;
  errno = s.error().code;
  return -1;
}

// The byte count, or -1 with errno set.
inline ssize_t to_c(const Result<std::size_t>& r) {
  if (r) return static_cast<ssize_t>(r.value());
  errno = r.error().code;
  return -1;
}

// A message count (sendmmsg/recvmmsg), or -1 with errno set. On i386 size_t is
// unsigned and ssize_t int, so the overload above already is this one.
template <class T>
requires(std::same_as<T, unsigned> &&
         !std::same_as<unsigned, std::size_t>) inline int to_c(const Result<T>& r) {
  if (r) return static_cast<int>(r.value());
  errno = r.error().code;
  return -1;
}

// Runs a noexcept core call with errno saved: success leaves the program's errno
// as it was; a failure's errno is set afterwards, by to_c or the hook.
// Not noexcept: see guarded() below (thread cancellation unwinds through it).
template <class F>
auto keeping_errno(F&& f) {
  ErrnoSaver keep;
  return f();
}

// Runs a call's logic with errno saved (success leaves the program's errno as
// it was, whatever our own syscalls did) and no exception unwinding into C.
// Not noexcept, on purpose: pthread_cancel() of a thread blocked in a
// cancellation point below us (poll, recv, connect) unwinds with
// abi::__forced_unwind, which must pass through our frames to the program's
// cleanup handlers; a noexcept frame or a swallowing catch would abort it.
template <class R, class F>
R guarded(F&& f) {
  ErrnoSaver keep;
  try {
    return f();
  } catch (...) {
    // A forced unwind (and any foreign exception) has no C++ type here: let it
    // go on. Not `catch (abi::__forced_unwind&)`: the unwinder binds that
    // reference to a null object, which UBSan rightly reports.
    if (abi::__cxa_current_exception_type() == nullptr) throw;
    return Errno{ENOMEM};
  }
}

}  // namespace socksify
