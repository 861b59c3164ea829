#include "core/real.hpp"

#include <dlfcn.h>
#include <sys/syscall.h>

#include <cstdlib>
#include <cstring>

namespace socksify::real {
namespace {

// Resolution failure is unrecoverable: without the real function there is no
// correct answer to give the program. Say why on stderr with a raw write (no
// stdio, no allocation) and abort.
[[noreturn]] void die(const char* name, const char* why) {
  const char* parts[] = {"socksify: fatal: cannot find the real ", name, "(): ", why, "\n"};
  for (const char* p : parts) {
    ssize_t ignored = ::syscall(SYS_write, 2, p, std::strlen(p));
    (void)ignored;
  }
  std::abort();
}

// The start of the object (shared library or executable) that holds an address.
// _dl_find_object is a lock-free range lookup; dladdr() would also scan the
// object's symbol table for the nearest name, ~25k instructions per call in libc,
// and two calls per symbol made every preloaded process start 0.5 ms slower.
const void* object_of(const void* addr) {
  dl_find_object found{};
  return _dl_find_object(const_cast<void*>(addr), &found) == 0 ? found.dlfo_map_start : nullptr;
}

const void* own_object() {
  static const void* const self = object_of(reinterpret_cast<const void*>(&object_of));
  return self;
}

void* lookup_or_null(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) return nullptr;
  // If the next definition lives in our own object, calling it would recurse
  // forever (e.g. socksify preloaded twice, or linked statically into a program).
  if (object_of(p) == own_object()) {
    die(name, "dlsym(RTLD_NEXT) returned socksify's own hook");
  }
  return p;
}

void* lookup(const char* name) {
  void* p = lookup_or_null(name);
  if (p == nullptr) die(name, "dlsym(RTLD_NEXT) found nothing");
  return p;
}

}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // see real.hpp
#define SOCKSIFY_DEFINE_REAL(name)                         \
  std::atomic<name##_type> name##_ptr{nullptr};            \
  name##_type resolve_##name() {                           \
    auto p = reinterpret_cast<name##_type>(lookup(#name)); \
    name##_ptr.store(p, std::memory_order_relaxed);        \
    return p;                                              \
  }
SOCKSIFY_REAL_SYMBOLS(SOCKSIFY_DEFINE_REAL)
#undef SOCKSIFY_DEFINE_REAL
#pragma GCC diagnostic pop

void* next_symbol(const char* name) {
  return lookup_or_null(name);
}

void resolve_all() {
#define SOCKSIFY_RESOLVE(name) (void)name##_fn();
  SOCKSIFY_REAL_SYMBOLS(SOCKSIFY_RESOLVE)
#undef SOCKSIFY_RESOLVE
}

}  // namespace socksify::real
