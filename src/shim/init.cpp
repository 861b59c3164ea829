// Library start-up: resolve every real symbol and read the configuration before
// main(), adopt UDP sockets inherited from before we were loaded, and keep our
// locks consistent across fork().
#include <pthread.h>
#include <unwind.h>

#include "core/async_connect.hpp"
#include "core/dns_intercept.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"
#include "core/runtime.hpp"
#include "core/udp_association.hpp"
#include "core/udp_inherited.hpp"
#include "core/vfork_child.hpp"

namespace {

// Not run for vfork() or posix_spawn: those children share our memory, and
// the hooks leave it alone there (core/vfork_child.hpp).
void before_fork() {
  socksify::Runtime::get().lock_for_fork();
  socksify::fd_table().lock_for_fork();
  socksify::own_fds().lock_for_fork();
}
void after_fork_in_parent() {
  socksify::own_fds().unlock_after_fork();
  socksify::fd_table().unlock_after_fork();
  socksify::Runtime::get().unlock_after_fork();
}
void after_fork_in_child() {
  socksify::remember_owner_process();  // memory of its own now
  socksify::own_fds().unlock_after_fork();
  socksify::own_fds().reset_in_child();
  socksify::fd_table().unlock_after_fork();
  socksify::fd_table().reset_in_child();
  socksify::udp_pool_reset_in_child();
  socksify::dns_intercept_reset_in_child();
  socksify::forget_pending_in_child();
  socksify::Runtime::get().unlock_after_fork();
}

// Our copy of the unwinder (libgcc, linked in) fills its table of register
// sizes on the first unwind it starts itself. A pthread_cancel() is unwound by
// the system's libgcc_s instead, whose contexts our personality routine hands
// to our copy's _Unwind_SetGR, which aborts on the still-empty table. One
// backtrace step at start-up fills it (a frame-table lookup, no allocation).
_Unwind_Reason_Code stop_at_first_frame(_Unwind_Context*, void*) {
  return _URC_END_OF_STACK;
}

__attribute__((constructor)) void socksify_init() {
  _Unwind_Backtrace(stop_at_first_frame, nullptr);
  socksify::ReentryGuard guard;
  socksify::real::resolve_all();
  socksify::remember_owner_process();
  socksify::Runtime::get();
  socksify::adopt_inherited_udp_sockets();
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

}  // namespace
