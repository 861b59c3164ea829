#include "tool/supervised_launch.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "config/effective.hpp"
#include "core/runtime.hpp"
#include "supervisor/bpf_filter.hpp"
#include "supervisor/kernel_features.hpp"
#include "supervisor/notify_loop.hpp"
#include "supervisor/target_memory.hpp"
#include "tool/elf_go.hpp"
#include "tool/elf_probe.hpp"
#include "tool/launch_args.hpp"
#include "tool/program_lookup.hpp"

namespace socksify {
namespace {

constexpr int kOwnError = 125;
constexpr int kCannotExecute = 126;

struct Kind {
  bool elf_static = false;
  bool go = false;
  ElfMachine machine = ElfMachine::NotElf;
};

// Warnings show at the levels that show them (-q and SOCKSIFY_LOG_LEVEL=error
// silence them), as in main.cpp.
bool warnings_shown() {
  const auto effective = load_effective_settings(process_environment);
  if (!effective.settings) return true;
  const LogLevel level = effective.settings->log_level;
  return level != LogLevel::Quiet && level != LogLevel::Error;
}

Kind kind_of(const std::string& path) {
  Kind k;
  supervisor::OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return k;
  std::byte head[4096];
  const ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
  k.elf_static =
      elf_linkage(std::span(head, n > 0 ? static_cast<std::size_t>(n) : 0)) == ElfLinkage::Static;
  k.machine = elf_machine(std::span(head, n > 0 ? static_cast<std::size_t>(n) : 0));
  k.go = elf_is_go([&](std::uint64_t off, std::span<std::byte> out) {
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t r =
          ::pread(fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(off + done));
      if (r <= 0) return false;
      done += static_cast<std::size_t>(r);
    }
    return true;
  });
  return k;
}

LaunchMode asked_mode() {
  const char* v = std::getenv("SOCKSIFY_MODE");
  if (v == nullptr || *v == '\0') return LaunchMode::Auto;
  return parse_launch_mode(v).value_or(LaunchMode::Auto);  // the launcher checked --mode
}

bool write_all(int fd, const void* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p = static_cast<const char*>(p) + w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, void* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p = static_cast<char*>(p) + r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// The child, between fork and exec. Tells the parent its listener's number
// (the parent takes it with pidfd_getfd: sending it over a socket would be a
// sendmsg, which the filter traps with no supervisor yet), waits until the
// parent holds it, then execs. Only async-signal-safe calls.
[[noreturn]] void child(const std::string& path, char** argv, int to_parent, int from_parent) {
  int answer = 0;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    answer = -errno;
    write_all(to_parent, &answer, sizeof answer);
    ::_exit(kOwnError);
  }
  auto prog = supervisor::supervisor_filter();
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  // WAIT_KILLABLE_RECV (5.19): without it a signal (Go's SIGURG preemption,
  // every 10 ms) interrupts a call we are working on, and the program asks
  // again from the start. An older kernel rejects the flag it does not know.
  long listener =
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &fprog);
  if (listener < 0 && errno == EINVAL) {
    listener =
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
  }
  answer = listener >= 0 ? static_cast<int>(listener) : -errno;
  if (!write_all(to_parent, &answer, sizeof answer) || listener < 0) ::_exit(kOwnError);
  char go = 0;
  if (!read_all(from_parent, &go, 1)) ::_exit(kOwnError);  // the supervisor is gone
  ::close(static_cast<int>(listener));
  ::close(to_parent);
  ::close(from_parent);
  exec_program(path, argv);  // allocates after fork: the parent is single-threaded, safe
  const int e = errno;
  fmt::print(stderr, "socksify: {}: {}\n", argv[0], std::strerror(e));
  ::_exit(e == ENOENT ? 127 : kCannotExecute);
}

pid_t g_child = 0;

// The terminal's SIGINT and SIGQUIT reach the program by its process group;
// the supervisor stays to answer its calls while it handles them. Signals
// sent to the launcher alone (kill PID) are passed on.
void forward(int sig) {
  if (g_child > 0) ::kill(g_child, sig);
}

void install_signal_handling() {
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ign, nullptr);
  ::sigaction(SIGQUIT, &ign, nullptr);
  ::sigaction(SIGPIPE, &ign, nullptr);  // our sends on the program's sockets
  struct sigaction fwd {};
  fwd.sa_handler = forward;
  fwd.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGWINCH}) {
    ::sigaction(sig, &fwd, nullptr);
  }
}

// The program's status as ours: its exit code, or its death by the same signal.
int finish_like(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);  // the program dumped its core, not us
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::kill(::getpid(), sig);
    return 128 + sig;
  }
  return kOwnError;
}

// The refusal when a launch step failed: the features it found missing by
// name, else the error.
void refuse(const std::string& path, const supervisor::KernelFeatures& seen, int error) {
  const auto missing = seen.missing();
  if (missing.empty()) {
    fmt::print(stderr, "socksify: refusing to run {}: cannot install the seccomp filter: {}\n",
               path, std::strerror(error));
    return;
  }
  std::string names;
  for (auto m : missing) names += (names.empty() ? "" : ", ") + std::string(m);
  fmt::print(stderr,
             "socksify: refusing to run {}: the supervised mode needs {}, which this kernel "
             "lacks; its traffic would bypass the proxy (--mode preload runs it with "
             "LD_PRELOAD only)\n",
             path, names);
}

int supervise(const std::string& path, char** argv) {
  int up[2], down[2];
  if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) {
    fmt::print(stderr, "socksify: cannot start the supervisor: {}\n", std::strerror(errno));
    return kOwnError;
  }
  // Orphans of the tree (a daemon's double fork) are reparented to us, not to
  // init: they stay our descendants, which pidfd_getfd and process_vm_readv
  // need under Yama's ptrace_scope 1 (a non-root supervisor reaches its
  // descendants only).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    fmt::print(stderr, "socksify: cannot start {}: {}\n", path, std::strerror(errno));
    return kOwnError;
  }
  if (pid == 0) {
    ::close(up[0]);
    ::close(down[1]);
    child(path, argv, up[1], down[0]);
  }
  ::close(up[1]);
  ::close(down[0]);
  g_child = pid;
  install_signal_handling();
  // What the kernel has, learnt from the steps themselves (no probe child):
  // the filter (user notification), pidfd_open and pidfd_getfd to take its
  // listener, ADDFD asked of that listener. A step that fails for want of
  // its call (ENOSYS, or EINVAL for an unknown seccomp flag) names it.
  supervisor::KernelFeatures seen;
  seen.user_notif = seen.addfd = seen.pidfd_open = seen.pidfd_getfd = true;
  int number = -1;
  int error = EIO;
  supervisor::OwnedFd listener;
  if (!read_all(up[0], &number, sizeof number)) {
    // The child died before it answered: EIO.
  } else if (number < 0) {
    error = -number;
    seen.user_notif = error != EINVAL && error != ENOSYS;
  } else if (supervisor::OwnedFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
             !pidfd) {
    error = errno;
    seen.pidfd_open = error != ENOSYS;
  } else {
    listener =
        supervisor::OwnedFd(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), number, 0)));
    if (!listener) {
      error = errno;
      seen.pidfd_getfd = error != ENOSYS;
    } else if (!supervisor::addfd_supported(listener.get())) {
      error = errno;
      seen.addfd = false;
      listener = supervisor::OwnedFd();
    }
  }
  ::close(up[0]);
  if (!listener) {
    ::close(down[1]);  // the child exits without running the program
    refuse(path, seen, error);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return kOwnError;
  }
  // The same Runtime (settings, proxies, log level) a preloaded program builds.
  const Runtime& rt = Runtime::get();
  static supervisor::NotifyLoop loop(rt, listener.release());
  loop.start();
  const char go = 1;
  write_all(down[1], &go, 1);
  ::close(down[1]);
  // Reaps the orphans handed to us as they end; done when the program ends.
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(-1, &status, 0);
    if (got == pid) break;
    if (got < 0 && errno != EINTR) return kOwnError;
  }
  return finish_like(status);
}

}  // namespace

std::optional<int> run_supervised_if_chosen(const std::string& path, char** program_argv) {
  // Where we are, for the library's exec guard: a Go or static program exec'd
  // later by a preloaded one of the tree is handed to us in this mode.
  char self[PATH_MAX];
  if (const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1); n > 0) {
    self[n] = '\0';
    ::setenv("SOCKSIFY_LAUNCHER_PATH", self, 1);
  }
  const Kind kind = kind_of(path);
  const LaunchMode mode = effective_mode(asked_mode(), kind.elf_static, kind.go);
  if (mode == LaunchMode::Preload) {
    // A dynamically linked Go program loads our library but makes its own
    // system calls: today's static-binary warning covers the static ones.
    if (kind.go && !kind.elf_static && warnings_shown()) {
      fmt::print(stderr,
                 "socksify: warning: {} is a Go program: it makes its own system calls, which "
                 "LD_PRELOAD cannot reach; its traffic will NOT go through the proxy (use "
                 "--mode auto or seccomp)\n",
                 path);
    }
    return std::nullopt;
  }
  if (kind.machine != ElfMachine::X86_64 && kind.machine != ElfMachine::NotElf) {
    // The filter kills any other ABI at its first call.
    fmt::print(stderr,
               "socksify: refusing to run {} in the supervised mode: it covers x86-64 programs "
               "only\n",
               path);
    return kCannotExecute;
  }
  return supervise(path, program_argv);
}

void print_mode_report() {
  const LaunchMode asked = asked_mode();
  const char* name = asked == LaunchMode::Preload   ? "preload"
                     : asked == LaunchMode::Seccomp ? "seccomp"
                                                    : "auto";
  fmt::print("mode: {}{}\n", name,
             asked == LaunchMode::Auto
                 ? " (seccomp supervisor for Go and statically linked programs, LD_PRELOAD "
                   "for the rest)"
                 : "");
  const supervisor::KernelFeatures& f = supervisor::kernel_features();
  const auto missing = f.missing();
  fmt::print("kernel: {}: the supervised mode {}\n", supervisor::describe(f),
             missing.empty() ? "can run" : "CANNOT run (Go and static programs are refused)");
}

}  // namespace socksify
