// The next definition of a symbol that core/real.hpp's table does not list
// (the exec family, i386's time64 entry points), found with dlsym(RTLD_NEXT)
// once and kept in the caller's slot. nullptr when no later object defines it.
#pragma once

#include <dlfcn.h>

#include <atomic>

namespace socksify {

template <class Fn>
Fn next_symbol(std::atomic<Fn>& slot, const char* name) {
  Fn p = slot.load(std::memory_order_relaxed);
  if (p == nullptr) {
    p = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
    slot.store(p, std::memory_order_relaxed);
  }
  return p;
}

}  // namespace socksify
