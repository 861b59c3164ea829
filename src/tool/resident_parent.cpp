#include "tool/resident_parent.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace socksify {
namespace {

constexpr int kOwnError = 125;

constexpr std::array<int, 8> kForwarded = {SIGINT,   SIGTERM, SIGHUP,  SIGQUIT,
                                           SIGWINCH, SIGUSR1, SIGUSR2, SIGALRM};

// Where the handler forwards to: K in L, P in K (0: nowhere yet / any more).
volatile sig_atomic_t g_target = 0;

void forward(int sig, siginfo_t* info, void*) {
  // A terminal's signal went to the whole foreground group, P included.
  if (info != nullptr && info->si_code == SI_KERNEL) return;
  const int saved = errno;
  const pid_t target = static_cast<pid_t>(g_target);
  if (target > 0) ::kill(target, sig);
  errno = saved;
}

struct SavedSignals {
  std::array<struct sigaction, kForwarded.size()> actions{};
  sigset_t mask{};
};

sigset_t forwarded_set() {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : kForwarded) sigaddset(&set, s);
  return set;
}

// Catches every forwarded signal that was not ignored, keeping the old
// actions for P.
void install_forwarding(SavedSignals& saved) {
  for (std::size_t i = 0; i < kForwarded.size(); ++i) {
    sigaction(kForwarded[i], nullptr, &saved.actions[i]);
    if (saved.actions[i].sa_handler == SIG_IGN) continue;
    struct sigaction sa {};
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigaction(kForwarded[i], &sa, nullptr);
  }
}

void restore_signals(const SavedSignals& saved) {
  for (std::size_t i = 0; i < kForwarded.size(); ++i) {
    sigaction(kForwarded[i], &saved.actions[i], nullptr);
  }
  sigprocmask(SIG_SETMASK, &saved.mask, nullptr);
}

bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Every descriptor but those in keep (sorted, each >= 3) closed; 0, 1 and 2
// on /dev/null.
void close_all_but(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned first = 3;
  for (const int fd : keep) {
    if (static_cast<unsigned>(fd) > first) ::syscall(SYS_close_range, first, fd - 1, 0);
    first = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, first, ~0U, 0);
  const int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    for (int fd = 0; fd < 3; ++fd) {
      if (fd != null) ::dup2(null, fd);
    }
    if (null > 2) ::close(null);
  }
}

// Any child left (exited or not), without reaping one.
bool children_remain() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

void* run_at_idle_priority(void* arg) {
  sched_param none{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);  // any user may
  (*static_cast<const std::function<void()>*>(arg))();
  return nullptr;
}

// after_start's work (prefaulting the tree's table: ~0.5-1.7 ms of CPU) on a
// thread of K at idle priority: the kernel gives it only a CPU that neither
// the program nor anything else wants, and K goes on to reap P at once (a
// short program's status waited for the whole prefault before). K's _exit
// ends it if the tree ends first. Inline when no thread can be made.
void start_in_background(const std::function<void()>& work) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigset_t all;
  sigfillset(&all);
  pthread_attr_setsigmask_np(&attr, &all);  // the forwarder runs on K's main thread
  pthread_t tid;
  // work is the caller's, which lives until K's _exit (keeper() never returns).
  void* arg = const_cast<std::function<void()>*>(&work);
  const int rc = pthread_create(&tid, &attr, run_at_idle_priority, arg);
  pthread_attr_destroy(&attr);
  if (rc != 0) work();
}

// K: starts P, reports its status to L on report_fd, reaps until the tree is gone.
[[noreturn]] void keeper(const ResidentProgram& program, const SavedSignals& saved, int report_fd) {
  // Orphans of the tree come to us, not to init: we see the last one go.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (program.in_keeper) program.in_keeper(::getpid());
  const pid_t child = ::fork();
  if (child < 0) {
    fmt::print(stderr, "socksify: cannot start the program: fork: {}\n", std::strerror(errno));
    ::_exit(kOwnError);
  }
  if (child == 0) {
    ::close(report_fd);
    restore_signals(saved);
    const int status = program.exec();
    std::fflush(nullptr);
    ::_exit(status);
  }
  g_target = child;
  if (program.after_start) start_in_background(program.after_start);
  std::vector<int> keep = program.keep_fds;
  keep.push_back(report_fd);
  close_all_but(std::move(keep));
  if (::chdir("/") != 0) {
    // Harmless: we only pin the directory.
  }
  sigprocmask(SIG_SETMASK, &saved.mask, nullptr);
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: the tree is gone
    }
    if (pid == child && report_fd >= 0) {
      // Nothing left to forward to; later signals act on us by default.
      g_target = 0;
      for (std::size_t i = 0; i < kForwarded.size(); ++i) {
        if (saved.actions[i].sa_handler != SIG_IGN) ::signal(kForwarded[i], SIG_DFL);
      }
      // Out of the job's process group before L returns: whoever cleans up
      // after the job (killpg of stragglers, as test harnesses and some
      // supervisors do) must not take the table from daemons that left it
      // with setsid. We still end with the tree. Only when some process of
      // the tree is left: the common case returns without it.
      if (children_remain()) ::setsid();
      write_all(report_fd, &status, sizeof status);
      ::close(report_fd);
      report_fd = -1;
    }
  }
  ::_exit(0);
}

// L: P's status as the shell should see it.
int finish(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (!WIFSIGNALED(status)) return kOwnError;
  const int sig = WTERMSIG(status);
  // Die the same way, without a core file of our own (P's is the one).
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  std::fflush(nullptr);
  ::signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);
  return 128 + sig;
}

}  // namespace

int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

int run_resident(const ResidentProgram& program) {
  SavedSignals saved;
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    fmt::print(stderr, "socksify: cannot start the program: pipe: {}\n", std::strerror(errno));
    return kOwnError;
  }
  report[0] = above_stdio(report[0]);
  report[1] = above_stdio(report[1]);
  if (report[0] < 0 || report[1] < 0) {
    fmt::print(stderr, "socksify: cannot start the program: {}\n", std::strerror(errno));
    return kOwnError;
  }
  // Blocked until g_target is set on each side of the fork.
  const sigset_t set = forwarded_set();
  sigprocmask(SIG_BLOCK, &set, &saved.mask);
  install_forwarding(saved);
  const pid_t keeper_pid = ::fork();
  if (keeper_pid < 0) {
    fmt::print(stderr, "socksify: cannot start the program: fork: {}\n", std::strerror(errno));
    restore_signals(saved);
    return kOwnError;
  }
  if (keeper_pid == 0) {
    ::close(report[0]);
    keeper(program, saved, report[1]);
  }
  g_target = keeper_pid;
  ::close(report[1]);
  for (const int fd : program.keep_fds) ::close(fd);
  // Off the program's stdin and stdout: a reader of P's output sees EOF when
  // P closes it, not only when we exit. stderr stays for our own last word.
  if (const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    if (null > 1) ::close(null);
  }
  sigprocmask(SIG_SETMASK, &saved.mask, nullptr);

  int status = 0;
  std::size_t got = 0;
  while (got < sizeof status) {
    const ssize_t n =
        ::read(report[0], reinterpret_cast<char*>(&status) + got, sizeof status - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(report[0]);
  if (got == sizeof status) return finish(status);
  // K ended without a word: it failed to start P (it said why) or was killed.
  int keeper_status = 0;
  while (::waitpid(keeper_pid, &keeper_status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(keeper_status) && WEXITSTATUS(keeper_status) != 0) {
    return WEXITSTATUS(keeper_status);
  }
  fmt::print(stderr, "socksify: the resident parent ended before the program\n");
  return kOwnError;
}

}  // namespace socksify
