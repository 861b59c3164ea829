// run_resident() with real processes. Each test runs it in a forked child of
// the test (it changes signal dispositions and waits for its tree), which
// plays the launcher L.
#include "tool/resident_parent.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace socksify {
namespace {

using Clock = std::chrono::steady_clock;

// Runs body in a child (L) and returns its wait status.
template <class F>
int in_launcher(F body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

TEST(ResidentParent, ReturnsTheProgramsExitStatus) {
  const int status = in_launcher([] {
    ResidentProgram p;
    p.exec = [] { return 42; };  // "exec failed" with 42: P's status
    return run_resident(p);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 42);
}

TEST(ResidentParent, ReRaisesTheSignalThatKilledTheProgram) {
  const int status = in_launcher([] {
    ResidentProgram p;
    p.exec = [] {
      raise(SIGTERM);
      return 1;
    };
    return run_resident(p);
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST(ResidentParent, TheProgramRunsUnderTheKeeperWithItsVariable) {
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const int status = in_launcher([&] {
    ResidentProgram p;
    p.in_keeper = [](pid_t keeper) { setenv("TEST_KEEPER", std::to_string(keeper).c_str(), 1); };
    p.exec = [&] {
      const char* k = getenv("TEST_KEEPER");
      const bool ok =
          k != nullptr && std::to_string(getppid()) == k && std::to_string(getpid()) != k;
      int reaper = 0;
      (void)!write(pipefd[1], &ok, 1);
      return ok && prctl(PR_GET_CHILD_SUBREAPER, &reaper) == 0 ? 0 : 3;
    };
    return run_resident(p);
  });
  bool ok = false;
  ASSERT_EQ(read(pipefd[0], &ok, 1), 1);
  close(pipefd[0]);
  close(pipefd[1]);
  EXPECT_TRUE(ok);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ResidentParent, TheProgramStartsWithTheSignalStateSocksifyStartedWith) {
  const int status = in_launcher([] {
    signal(SIGUSR2, SIG_IGN);  // as nohup or a non-interactive shell's & leave it
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, nullptr);
    ResidentProgram p;
    p.exec = [] {
      struct sigaction usr2 {
      }, term{};
      sigaction(SIGUSR2, nullptr, &usr2);
      sigaction(SIGTERM, nullptr, &term);
      sigset_t mask;
      sigprocmask(SIG_SETMASK, nullptr, &mask);
      if (usr2.sa_handler != SIG_IGN) return 11;
      if (term.sa_handler != SIG_DFL) return 12;  // not the launcher's forwarder
      if (!sigismember(&mask, SIGUSR1)) return 13;
      if (sigismember(&mask, SIGTERM) || sigismember(&mask, SIGINT)) return 14;
      return 0;
    };
    return run_resident(p);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ResidentParent, ForwardsASignalSentToTheLauncher) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer runs a signal handler only when the call the signal
  // interrupted returns, and the launcher is waiting in waitpid() for the
  // program it should forward the signal to: nothing to observe here.
  GTEST_SKIP() << "ThreadSanitizer defers the handler past the launcher's waitpid()";
#endif
  const auto start = Clock::now();
  const pid_t launcher = fork();
  if (launcher == 0) {
    ResidentProgram p;
    p.exec = [] {
      // P: waits for the forwarded SIGUSR1 (default action: terminate).
      for (int i = 0; i < 500; ++i) usleep(10000);
      return 9;
    };
    _exit(run_resident(p));
  }
  usleep(100000);
  ASSERT_EQ(kill(launcher, SIGUSR1), 0);
  int status = 0;
  ASSERT_EQ(waitpid(launcher, &status, 0), launcher);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGUSR1);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST(ResidentParent, TheProgramsStatusDoesNotWaitForAfterStart) {
  // after_start (the tree table's prefault) runs beside the keeper's reaping:
  // a program that ends first is reported at once.
  const auto start = Clock::now();
  const int status = in_launcher([] {
    ResidentProgram p;
    p.after_start = [] { usleep(2000000); };
    p.exec = [] { return 7; };
    return run_resident(p);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000))
      << "the launcher waited for after_start";
}

TEST(ResidentParent, AfterStartRunsAtIdlePriorityInTheKeeper) {
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const int status = in_launcher([&] {
    ResidentProgram p;
    p.keep_fds = {pipefd[1]};
    p.after_start = [&] {
      const int policy = sched_getscheduler(0);
      (void)!write(pipefd[1], &policy, sizeof policy);
    };
    p.exec = [] {
      usleep(200000);  // the keeper's thread reports meanwhile
      return 0;
    };
    return run_resident(p);
  });
  close(pipefd[1]);
  ASSERT_TRUE(WIFEXITED(status));
  int policy = -1;
  ASSERT_EQ(read(pipefd[0], &policy, sizeof policy), static_cast<ssize_t>(sizeof policy));
  close(pipefd[0]);
  EXPECT_EQ(policy, SCHED_IDLE);
}

TEST(ResidentParent, TheLauncherReturnsWhileTheKeeperWaitsForADaemon) {
  // The keeper comes to us when L exits: we can wait for it.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const auto start = Clock::now();
  const int status = in_launcher([&] {
    ResidentProgram p;
    p.exec = [&] {
      // A double-forked daemon: P's grandchild, orphaned when P exits.
      if (fork() == 0) {
        setsid();
        if (fork() == 0) {
          usleep(300000);
          const pid_t parent = getppid();  // the keeper, as subreaper
          (void)!write(pipefd[1], &parent, sizeof parent);
          _exit(0);
        }
        _exit(0);
      }
      return 5;
    };
    return run_resident(p);
  });
  close(pipefd[1]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 5);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(250))
      << "the launcher waited for the daemon";
  pid_t daemon_parent = 0;
  ASSERT_EQ(read(pipefd[0], &daemon_parent, sizeof daemon_parent),
            static_cast<ssize_t>(sizeof daemon_parent));
  close(pipefd[0]);
  EXPECT_NE(daemon_parent, 1) << "the daemon went to init, not to the keeper";
  // The keeper ends once the daemon is gone.
  int keeper_status = -1;
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = waitpid(daemon_parent, &keeper_status, WNOHANG) == daemon_parent;
    if (!gone) usleep(10000);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_TRUE(gone) << "the keeper outlived the tree";
  EXPECT_TRUE(WIFEXITED(keeper_status) && WEXITSTATUS(keeper_status) == 0) << keeper_status;
}

}  // namespace
}  // namespace socksify
