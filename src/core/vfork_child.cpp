#include "core/vfork_child.hpp"

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>

#include "core/log.hpp"
#include "core/real.hpp"

namespace socksify {
namespace {

// 0 until the constructor (or the first question) runs.
std::atomic<pid_t> g_owner{0};

// Not getpid(): a libc that caches the pid (older glibc did, and updated the
// cache in vfork children in ways that differ between versions) could answer
// with the parent's. REAL: our own syscall() hook need not look at it.
pid_t kernel_pid() { return static_cast<pid_t>(REAL(syscall)(SYS_getpid)); }

}  // namespace

void remember_owner_process() noexcept { g_owner.store(kernel_pid(), std::memory_order_relaxed); }

bool in_vfork_child() noexcept {
  const pid_t me = kernel_pid();
  pid_t owner = g_owner.load(std::memory_order_relaxed);
  // A hook running before our constructor (another library's constructor):
  // nothing could have vforked yet, this process is the owner.
  if (owner == 0 && g_owner.compare_exchange_strong(owner, me, std::memory_order_relaxed)) {
    return false;
  }
  return owner != me;
}

bool refuse_in_vfork_child(const char* call) noexcept {
  if (!in_vfork_child()) return false;
  log::error("refusing {} in a vfork child: its sockets could be carried only with state kept "
             "in the parent's memory",
             call);
  return true;
}

}  // namespace socksify
