// Library start-up: resolve every real symbol and read the configuration before
// main(), adopt UDP sockets inherited from before we were loaded, and keep our
// locks consistent across fork().
#include <pthread.h>

#include "core/async_connect.hpp"
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
  socksify::fd_table().unlock_after_fork();
  socksify::fd_table().reset_in_child();
  socksify::udp_pool_reset_in_child();
  socksify::forget_pending_in_child();
  socksify::Runtime::get().unlock_after_fork();
}

__attribute__((constructor)) void socksify_init() {
  socksify::ReentryGuard guard;
  socksify::real::resolve_all();
  socksify::remember_owner_process();
  socksify::Runtime::get();
  socksify::adopt_inherited_udp_sockets();
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

}  // namespace
