#include "supervisor/kernel_features.hpp"

#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "supervisor/bpf_filter.hpp"

namespace socksify::supervisor {
namespace {

enum Bit : std::uint8_t {
  kUserNotif = 1,
  kAddfd = 2,
  kPidfdOpen = 4,
  kPidfdGetfd = 8,
  kWaitKillable = 16,
};

long install(unsigned flags) {
  auto prog = allow_all_filter();
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
}

// In the child: every probe, the answer as the exit status's bits.
[[noreturn]] void probe_child() {
  unsigned bits = 0;
  if (const long fd = ::syscall(SYS_pidfd_open, ::getpid(), 0); fd >= 0) {
    bits |= kPidfdOpen;
    if (const long got = ::syscall(SYS_pidfd_getfd, fd, 0, 0); got >= 0) {
      bits |= kPidfdGetfd;
      ::close(static_cast<int>(got));
    }
    ::close(static_cast<int>(fd));
  }
  std::uint32_t action = SECCOMP_RET_USER_NOTIF;
  const bool notif_known = ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(static_cast<int>(bits));
  // WAIT_KILLABLE_RECV needs NEW_LISTENER; an old kernel rejects the unknown flag.
  long listener =
      install(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  if (listener >= 0) {
    bits |= kWaitKillable;
  } else {
    listener = install(SECCOMP_FILTER_FLAG_NEW_LISTENER);
  }
  if (listener >= 0 && notif_known) {
    bits |= kUserNotif;
    if (addfd_supported(static_cast<int>(listener))) bits |= kAddfd;
  }
  ::_exit(static_cast<int>(bits));
}

KernelFeatures probe() {
  KernelFeatures f;
  const pid_t pid = ::fork();
  if (pid < 0) return f;
  if (pid == 0) probe_child();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) return f;
  const unsigned bits = static_cast<unsigned>(WEXITSTATUS(status));
  f.user_notif = bits & kUserNotif;
  f.addfd = bits & kAddfd;
  f.pidfd_open = bits & kPidfdOpen;
  f.pidfd_getfd = bits & kPidfdGetfd;
  f.wait_killable = bits & kWaitKillable;
  return f;
}

}  // namespace

std::vector<std::string_view> KernelFeatures::missing() const {
  std::vector<std::string_view> out;
  if (!user_notif) out.push_back("seccomp user notification (SECCOMP_RET_USER_NOTIF, Linux 5.0)");
  if (!addfd) out.push_back("SECCOMP_IOCTL_NOTIF_ADDFD (Linux 5.9)");
  if (!pidfd_open) out.push_back("pidfd_open (Linux 5.3)");
  if (!pidfd_getfd) out.push_back("pidfd_getfd (Linux 5.6)");
  return out;
}

bool addfd_supported(int listener) {
  seccomp_notif_addfd addfd{};
  addfd.id = 0;
  addfd.srcfd = 0;
  addfd.newfd = 0;
  addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
  return ::ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0 &&
         (errno == ENOENT || errno == EINPROGRESS);
}

const KernelFeatures& kernel_features() {
  static const KernelFeatures features = probe();
  return features;
}

std::string describe(const KernelFeatures& f) {
  std::string out;
  auto add = [&](std::string_view name, bool present) {
    if (!out.empty()) out += ", ";
    out += name;
    if (!present) out += " (missing)";
  };
  add("user notification", f.user_notif);
  add("ADDFD", f.addfd);
  add("pidfd_open", f.pidfd_open);
  add("pidfd_getfd", f.pidfd_getfd);
  add("WAIT_KILLABLE_RECV", f.wait_killable);
  return out;
}

}  // namespace socksify::supervisor
