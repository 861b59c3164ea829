#include "supervisor/notify_loop.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"
#include "supervisor/syscall_handler.hpp"

namespace socksify::supervisor {

void NotifyLoop::start() {
  std::thread([this] { receive(); }).detach();
}

void NotifyLoop::receive() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      slot_free_.wait(lock, [this] { return in_flight_ < kMaxInFlight; });
      ++in_flight_;
    }
    seccomp_notif req;
    std::memset(&req, 0, sizeof req);  // the kernel wants it zeroed
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      {
        std::lock_guard lock(mu_);
        --in_flight_;
      }
      // EINTR: a signal; ENOENT: the call went away before we took it. Once
      // no process uses the filter any more the listener hangs up: done.
      if (errno == EINTR || errno == ENOENT) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0 && (p.revents & POLLHUP)) return;
        continue;
      }
      log::error("supervisor: cannot receive from the seccomp listener: {}",
                 log::errno_name(errno));
      return;  // the program's trapped calls now wait; they fail once we exit
    }
    auto work = [this, req] {
      handle_notification(rt_, listener_, req);
      std::lock_guard lock(mu_);
      --in_flight_;
      slot_free_.notify_one();
    };
    try {
      std::thread(work).detach();
    } catch (const std::system_error&) {
      work();  // no thread to be had: answer it here
    }
  }
}

}  // namespace socksify::supervisor
