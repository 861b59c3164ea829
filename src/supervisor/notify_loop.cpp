#include "supervisor/notify_loop.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "core/log.hpp"
#include "supervisor/syscall_handler.hpp"

namespace socksify::supervisor {

void NotifyLoop::start() {
  // Linux 6.6: the trapped thread waits for our answer anyway, so the kernel
  // may switch straight to the receiver on the same CPU (and back on the
  // answer) instead of waking it elsewhere: the latency of each trapped call,
  // not throughput, is what a connect-heavy program feels. EINVAL on older
  // kernels: ordinary wake-ups.
  constexpr unsigned long kSetFlags = SECCOMP_IOW(4, __u64);  // SECCOMP_IOCTL_NOTIF_SET_FLAGS
  constexpr unsigned long kSyncWakeUp = 1;                    // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
  ::ioctl(listener_, kSetFlags, kSyncWakeUp);
  std::lock_guard lock(mu_);
  add_receiver_if_needed();
}

void NotifyLoop::add_receiver_if_needed() {
  if (idle_ > 0 || threads_ >= kMaxThreads) return;
  try {
    std::thread([this] { receive(); }).detach();
  } catch (const std::system_error&) {
    return;  // no thread to be had: the running receivers go on answering
  }
  ++threads_;
  ++idle_;
}

void NotifyLoop::receive() {
  for (;;) {
    seccomp_notif req;
    std::memset(&req, 0, sizeof req);  // the kernel wants it zeroed
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      // EINTR: a signal; ENOENT: the call went away before we took it. Once
      // no process uses the filter any more the listener hangs up: done.
      if (errno == EINTR || errno == ENOENT) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0 && (p.revents & POLLHUP)) break;
        continue;
      }
      log::error("supervisor: cannot receive from the seccomp listener: {}",
                 log::errno_name(errno));
      break;  // the program's trapped calls now wait; they fail once we exit
    }
    {
      std::lock_guard lock(mu_);
      --idle_;
      add_receiver_if_needed();  // the next call must not wait for this one
    }
    handle_notification(rt_, listener_, req);
    std::lock_guard lock(mu_);
    ++idle_;
  }
  std::lock_guard lock(mu_);
  --idle_;
  --threads_;
}

}  // namespace socksify::supervisor
