// The next definition of a symbol that core/real.hpp's table does not list
// (exec and spawn, the time64 entry points of 32-bit glibc), found with
// dlsym(RTLD_NEXT) on first use and kept. nullptr when no later library
// defines it (a glibc too old for that entry point: then no program calls ours).
#pragma once

#include <dlfcn.h>

#include <atomic>

namespace socksify {

template <class Fn>
Fn next_symbol(std::atomic<Fn>& slot, const char* name) noexcept {
  Fn p = slot.load(std::memory_order_relaxed);
  if (p == nullptr) {
    p = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
    slot.store(p, std::memory_order_relaxed);
  }
  return p;
}

}  // namespace socksify
