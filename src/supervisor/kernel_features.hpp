// Which of the kernel facilities the supervised mode needs are there, found by
// trying them at run time (a kernel version says little: distributions
// backport, and seccomp or pidfds can be blocked by a container's own filter).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace socksify::supervisor {

struct KernelFeatures {
  bool user_notif = false;     // SECCOMP_RET_USER_NOTIF + FILTER_FLAG_NEW_LISTENER (5.0)
  bool addfd = false;          // SECCOMP_IOCTL_NOTIF_ADDFD with ADDFD_FLAG_SETFD (5.9/5.14)
  bool pidfd_open = false;     // pidfd_open(2) (5.3)
  bool pidfd_getfd = false;    // pidfd_getfd(2) (5.6)
  bool wait_killable = false;  // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19), optional
  // The names of the missing required features, for the refusal line; empty
  // when the mode can run.
  std::vector<std::string_view> missing() const;
};

// Probes in a throwaway child (installing a filter cannot be undone), once.
// For --check; a launch needs no probe: the steps it takes anyway tell it
// (tool/supervised_launch.cpp), which saves a fork and a wait.
const KernelFeatures& kernel_features();

// Whether SECCOMP_IOCTL_NOTIF_ADDFD (with SETFD) exists, asked of a listener:
// for a notification that is not there (id 0) a kernel with the ioctl says
// ENOENT (or EINPROGRESS), one without ENOTTY or EINVAL.
bool addfd_supported(int listener);

// "user notification, ADDFD, pidfd_open, pidfd_getfd, WAIT_KILLABLE_RECV" with
// "(missing)" after the absent ones: the --check line.
std::string describe(const KernelFeatures& f);

}  // namespace socksify::supervisor
