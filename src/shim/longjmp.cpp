// longjmp/_longjmp/siglongjmp/__longjmp_chk: a signal handler that jumps out
// of a call we are inside (the real getaddrinfo, a UDP association's
// handshake) skips our destructors. Before jumping, undo what a skipped frame
// would have undone: the thread's re-entry flag (else every later call on the
// thread would go straight to libc: fail open) and the asynchronous
// cancellation type a blocking connect() waits with. Then the real jump.
//
// Only state whose frame lies below the jump target is undone: a handler that
// uses setjmp/longjmp inside itself, under our guard, keeps it. The target's
// stack pointer is read from the jmp_buf, where glibc stores it mangled
// (x86-64: PTR_MANGLE, xor with the thread's pointer guard at %fs:0x30, then
// rol 17). On other architectures the flags are left as they are.
#include <pthread.h>
#include <setjmp.h>

#include <cstdint>

#include "core/guard.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

namespace {

// The stack pointer a jump to env restores; 0 when it cannot be known here.
std::uintptr_t target_sp(const __jmp_buf_tag* env) {
#if defined(__x86_64__) && defined(__GLIBC__)
  constexpr int kJbRsp = 6;  // glibc sysdeps/x86_64/jmpbuf-offsets.h
  auto sp = static_cast<std::uintptr_t>(env->__jmpbuf[kJbRsp]);
  std::uintptr_t guard;
  asm("mov %%fs:0x30, %0" : "=r"(guard));
  sp = (sp >> 17 | sp << (64 - 17)) ^ guard;
  return sp;
#else
  (void)env;
  return 0;
#endif
}

// Async-signal-safe: thread-locals (initial-exec) and pthread_setcanceltype.
void before_jump(const __jmp_buf_tag* env) {
  using namespace socksify;
  if (!t_inside && t_async_cancel_frame == nullptr) return;
  const std::uintptr_t sp = target_sp(env);
  if (sp == 0) return;
  if (t_inside && sp > reinterpret_cast<std::uintptr_t>(t_inside_frame)) {
    t_inside = false;
    t_inside_frame = nullptr;
  }
  if (t_async_cancel_frame != nullptr &&
      sp > reinterpret_cast<std::uintptr_t>(t_async_cancel_frame)) {
    t_async_cancel_frame = nullptr;
    int ignored;
    pthread_setcanceltype(t_async_cancel_old_type, &ignored);
  }
}

}  // namespace

SOCKSIFY_HOOK [[noreturn]] void longjmp(jmp_buf env, int val) {
  before_jump(env);
  REAL(longjmp)(env, val);
  __builtin_unreachable();
}

SOCKSIFY_HOOK [[noreturn]] void _longjmp(jmp_buf env, int val) {
  before_jump(env);
  REAL(_longjmp)(env, val);
  __builtin_unreachable();
}

SOCKSIFY_HOOK [[noreturn]] void siglongjmp(sigjmp_buf env, int val) {
  before_jump(env);
  REAL(siglongjmp)(env, val);
  __builtin_unreachable();
}

// What _FORTIFY_SOURCE programs (wget) call for longjmp and siglongjmp.
SOCKSIFY_HOOK [[noreturn]] void __longjmp_chk(__jmp_buf_tag* env, int val) {
  before_jump(env);
  REAL(__longjmp_chk)(env, val);
  __builtin_unreachable();
}
