#include "core/vfork_child.hpp"

#include <errno.h>
#include <linux/kcmp.h>
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
pid_t kernel_pid() {
  return static_cast<pid_t>(REAL(syscall)(SYS_getpid));
}

}  // namespace

void remember_owner_process() noexcept {
  g_owner.store(kernel_pid(), std::memory_order_relaxed);
}

bool in_vfork_child() noexcept {
  const pid_t me = kernel_pid();
  pid_t owner = g_owner.load(std::memory_order_relaxed);
  if (owner == me) return false;
  // A hook running before our constructor (another library's constructor):
  // nothing could have vforked yet, this process is the owner.
  if (owner == 0 && g_owner.compare_exchange_strong(owner, me, std::memory_order_relaxed)) {
    return false;
  }
  if (owner == me) return false;
  // Another process than the owner. A vfork child shares the owner's address
  // space (the owner waits in vfork() until the child execs or exits); a child
  // of a raw clone()/fork syscall, which runs no pthread_atfork handler
  // (Chromium's zygote makes its children so), has memory of its own and is
  // its owner from now on. Only this case pays for the extra syscall.
  const int saved = errno;
  const long same = REAL(syscall)(SYS_kcmp, me, owner, KCMP_VM, 0, 0);
  const int e = errno;
  errno = saved;
  if (same == 0) return true;
  if (same > 0 || e == ESRCH) {  // another address space, or the owner is gone
    g_owner.store(me, std::memory_order_relaxed);
    return false;
  }
  return true;  // cannot tell (no kcmp in this kernel): leave the state alone
}

bool refuse_in_vfork_child(const char* call) noexcept {
  if (!in_vfork_child()) return false;
  log::error(
      "refusing {} in a vfork child: its sockets could be carried only with state kept "
      "in the parent's memory",
      call);
  return true;
}

}  // namespace socksify
