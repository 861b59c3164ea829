#include "core/own_fds.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace socksify {
namespace {

// A private registry per test: the real one is process-wide. Kept alive to the
// end (its chunks are never freed, by design).
OwnFds* fresh() {
  static auto* all = new std::vector<std::unique_ptr<OwnFds>>;
  all->push_back(std::make_unique<OwnFds>());
  return all->back().get();
}

bool is_open(int fd) {
  return fcntl(fd, F_GETFD) != -1;
}

// A free descriptor number at or above `from` (none of the process's).
int free_number(int from) {
  for (int fd = from; fd < from + 4096; ++fd) {
    if (!is_open(fd)) return fd;
  }
  return -1;
}

int current_floor() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  return own_fd_floor_for(rl.rlim_cur, OwnFds::kCapacity);
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int p[2];
    if (pipe2(p, O_CLOEXEC) == 0) {
      r = p[0];
      w = p[1];
    }
  }
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
};

TEST(OwnFdFloor, LeavesTheSelectRangeToTheProgramWhenTheLimitAllows) {
  constexpr int cap = OwnFds::kCapacity;
  EXPECT_EQ(own_fd_floor_for(4096, cap), 1024);
  EXPECT_EQ(own_fd_floor_for(1280, cap), 1024);
  EXPECT_EQ(own_fd_floor_for(65536, cap), 1024);
  EXPECT_EQ(own_fd_floor_for(1 << 20, cap), 1024);  // not near the top: see own_fds.cpp
}

TEST(OwnFdFloor, TakesTheUpperHalfOfASmallLimit) {
  constexpr int cap = OwnFds::kCapacity;
  EXPECT_EQ(own_fd_floor_for(1024, cap), 512);  // the usual default soft limit
  EXPECT_EQ(own_fd_floor_for(1100, cap), 550);
  EXPECT_EQ(own_fd_floor_for(64, cap), 32);  // ulimit -n 64
  EXPECT_EQ(own_fd_floor_for(4, cap), 3);    // never onto stdin/stdout/stderr
}

TEST(OwnFdFloor, UnlimitedOrHugeLimitsStopAtWhatCanBeTracked) {
  constexpr int cap = OwnFds::kCapacity;
  EXPECT_EQ(own_fd_floor_for(RLIM_INFINITY, cap), 1024);
  EXPECT_EQ(own_fd_floor_for(0, cap), 1024);
  EXPECT_EQ(own_fd_floor_for(rlim_t{1} << 40, cap), 1024);
  EXPECT_EQ(own_fd_floor_for(RLIM_INFINITY, 1000), 500);  // a capacity below 1280
}

// The kernel's table size for this process (FDSize in /proc/self/status), -1
// when unknown.
int kernel_fd_table_size() {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  const char* at = strstr(buf, "FDSize:");
  return at != nullptr ? atoi(at + 7) : -1;
}

int open_count() {
  int n = 0;
  for (int fd = 0; fd < 1 << 16; ++fd) n += is_open(fd) ? 1 : 0;
  return n;
}

// In a forked child (one thread, a table sized to the few descriptors open):
// make_room grows the table past the floor at once and keeps no descriptor,
// so adopt()'s later move high finds the room made (no growth with a thread of
// ours running: see own_fds.hpp). Exit status 0, or which check failed.
TEST(OwnFdsRoom, MakeRoomGrowsTheKernelTableToTheFloorAndKeepsNoDescriptor) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // A fork copies a table sized to the highest descriptor open: only 0-2
    // here, and the checks in a child of this child, whose table is small.
    syscall(SYS_close_range, 3U, ~0U, 0U);
    const pid_t inner = fork();
    if (inner != 0) {
      int inner_status = 0;
      if (inner < 0 || waitpid(inner, &inner_status, 0) != inner) _exit(20);
      _exit(WIFEXITED(inner_status) ? WEXITSTATUS(inner_status) : 21);
    }
    OwnFds& own = *fresh();
    const int floor = current_floor();
    const int before = kernel_fd_table_size();
    if (before < 0) _exit(10);      // no /proc: nothing to see
    if (before > floor) _exit(11);  // already large: the test would prove nothing
    Pipe any;
    const int open_before = open_count();
    own.make_room(any.r);
    if (kernel_fd_table_size() <= floor) _exit(1);
    if (open_count() != open_before) _exit(2);
    std::atomic<int> holder{-1};
    const int high = own.adopt(eventfd(0, EFD_CLOEXEC), holder);
    if (high < floor) _exit(3);
    own.close(holder);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 10) GTEST_SKIP() << "no /proc/self/status";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(OwnFds, AdoptMovesTheDescriptorHighCloseOnExecAndProtectsIt) {
  OwnFds* reg = fresh();
  Pipe p;
  ASSERT_GE(p.r, 0);
  const int low = p.r;
  std::atomic<int> holder{-1};
  const int fd = reg->adopt(p.r, holder);
  p.r = -1;  // the registry's now
  EXPECT_EQ(holder.load(), fd);
  EXPECT_GE(fd, current_floor());
  EXPECT_FALSE(is_open(low)) << "the original number is free for the program again";
  EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(reg->is_own(fd));
  EXPECT_TRUE(reg->maybe_own(fd));
  EXPECT_FALSE(reg->maybe_own(low)) << "the program's low numbers cost one load";
  EXPECT_EQ(reg->count(), 1);
  // Still the same pipe.
  ASSERT_EQ(write(p.w, "x", 1), 1);
  char c = 0;
  EXPECT_EQ(read(fd, &c, 1), 1);
  EXPECT_EQ(c, 'x');

  reg->close(holder);
  EXPECT_EQ(holder.load(), -1);
  EXPECT_FALSE(is_open(fd));
  EXPECT_FALSE(reg->is_own(fd));
  EXPECT_EQ(reg->count(), 0);
  EXPECT_FALSE(reg->maybe_own(fd)) << "nothing owned: no descriptor pays more than one load";
}

TEST(OwnFds, AdoptPreservesErrnoAndPassesFailuresThrough) {
  OwnFds* reg = fresh();
  std::atomic<int> holder{7};
  errno = EMFILE;
  EXPECT_EQ(reg->adopt(-1, holder), -1);
  EXPECT_EQ(holder.load(), -1);
  EXPECT_EQ(errno, EMFILE);
  Pipe p;
  errno = 1234;
  std::atomic<int> h2{-1};
  reg->adopt(p.r, h2);
  p.r = -1;
  EXPECT_EQ(errno, 1234);
  reg->close(h2);
  EXPECT_EQ(errno, 1234);
}

TEST(OwnFds, AdoptDupMakesAHighDuplicateAndLeavesTheOriginal) {
  OwnFds* reg = fresh();
  Pipe p;
  std::atomic<int> holder{-1};
  const int d = reg->adopt_dup(p.w, holder);
  EXPECT_EQ(holder.load(), d);
  EXPECT_GE(d, current_floor());
  EXPECT_TRUE(reg->is_own(d));
  EXPECT_TRUE(is_open(p.w)) << "the program's descriptor is untouched";
  EXPECT_TRUE(fcntl(d, F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(write(d, "y", 1), 1);
  char c = 0;
  EXPECT_EQ(read(p.r, &c, 1), 1);
  EXPECT_EQ(c, 'y');
  reg->close(holder);
  EXPECT_FALSE(is_open(d));
  EXPECT_TRUE(is_open(p.w));
  errno = 0;
  EXPECT_EQ(reg->adopt_dup(-1, holder), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(holder.load(), -1);
}

TEST(OwnFds, CloseLeavesANumberTakenBehindOurBackOpen) {
  OwnFds* reg = fresh();
  Pipe ours, theirs;
  std::atomic<int> holder{-1};
  const int fd = reg->adopt(ours.r, holder);
  ours.r = -1;
  // The program closes it without our hooks (a raw syscall) and its file takes the number.
  ASSERT_EQ(close(fd), 0);
  ASSERT_EQ(dup2(theirs.r, fd), fd);
  reg->close(holder);
  EXPECT_TRUE(is_open(fd)) << "closed the program's file";
  EXPECT_EQ(holder.load(), -1);
  EXPECT_FALSE(reg->is_own(fd));
  close(fd);
}

TEST(OwnFds, DescriptorsThatWereNeverAdoptedAreJustClosed) {
  OwnFds* reg = fresh();
  Pipe p;
  std::atomic<int> holder{p.r};
  const int fd = p.r;
  p.r = -1;
  reg->close(holder);
  EXPECT_FALSE(is_open(fd));
  EXPECT_EQ(holder.load(), -1);
}

TEST(OwnFds, CloseRangeClosesTheProgramsNumbersAroundOurs) {
  OwnFds* reg = fresh();
  const int e = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(e, 0);
  std::atomic<int> holder{-1};
  const int fd = reg->adopt(e, holder);
  // The program's descriptors right below and above ours.
  Pipe p;
  std::vector<int> program;
  for (int n : {fd - 2, fd - 1, fd + 1, fd + 2}) {
    if (is_open(n)) continue;
    ASSERT_EQ(dup2(p.r, n), n);
    program.push_back(n);
  }
  ASSERT_FALSE(program.empty());
  EXPECT_EQ(reg->close_range_sparing(fd - 2, fd + 2, 0), 0);
  for (int n : program) EXPECT_FALSE(is_open(n)) << n;
  EXPECT_TRUE(is_open(fd));
  EXPECT_TRUE(reg->is_own(fd));
  reg->close(holder);
  EXPECT_FALSE(is_open(fd));
}

TEST(OwnFds, CloseRangeOverOnlyOursClosesNothing) {
  OwnFds* reg = fresh();
  std::atomic<int> a{-1}, b{-1};
  const int fa = reg->adopt(eventfd(0, EFD_CLOEXEC), a);
  const int fb = reg->adopt(eventfd(0, EFD_CLOEXEC), b);
  ASSERT_EQ(fb, fa + 1) << "adopted descriptors pack from the floor up";
  EXPECT_EQ(reg->close_range_sparing(fa, fb, 0), 0);
  EXPECT_TRUE(is_open(fa));
  EXPECT_TRUE(is_open(fb));
  reg->close(a);
  reg->close(b);
  EXPECT_EQ(reg->count(), 0);
}

TEST(OwnFds, CloseRangeReportsTheKernelsError) {
  OwnFds* reg = fresh();
  std::atomic<int> a{-1};
  const int fd = reg->adopt(eventfd(0, EFD_CLOEXEC), a);
  errno = 0;
  EXPECT_EQ(reg->close_range_sparing(fd - 1, fd + 1, 0x4000 /* no such flag */), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_TRUE(is_open(fd));
  reg->close(a);
}

TEST(OwnFds, VacateMovesOursAndFreesTheNumberForTheProgram) {
  OwnFds* reg = fresh();
  std::atomic<int> holder{-1};
  const int fd = reg->adopt(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), holder);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(reg->vacate(fd));
  const int moved = holder.load();
  EXPECT_NE(moved, fd);
  EXPECT_GE(moved, current_floor());
  EXPECT_TRUE(reg->is_own(moved));
  EXPECT_FALSE(reg->is_own(fd));
  EXPECT_FALSE(is_open(fd));
  EXPECT_EQ(reg->count(), 1);
  // Still our eventfd.
  const std::uint64_t one = 1;
  EXPECT_EQ(write(moved, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  // The program's dup2 takes the number; closing ours leaves its file alone.
  Pipe p;
  ASSERT_EQ(dup2(p.r, fd), fd);
  reg->close(holder);
  EXPECT_FALSE(is_open(moved));
  EXPECT_TRUE(is_open(fd));
  close(fd);
  EXPECT_FALSE(reg->vacate(fd)) << "not ours";
}

TEST(OwnFds, HandOverPassesTheDescriptorToItsNewHolder) {
  OwnFds* reg = fresh();
  std::atomic<int> first{-1}, second{-1};
  const int fd = reg->adopt(eventfd(0, EFD_CLOEXEC), first);
  reg->hand_over(first, second);
  EXPECT_EQ(first.load(), -1);
  EXPECT_EQ(second.load(), fd);
  reg->close(first);  // nothing there any more
  EXPECT_TRUE(is_open(fd));
  // A move after the hand-over updates the new holder.
  ASSERT_TRUE(reg->vacate(fd));
  EXPECT_NE(second.load(), fd);
  reg->close(second);
  EXPECT_EQ(reg->count(), 0);
}

TEST(OwnFds, RenewAcceptsAFileWePutInPlaceOurselves) {
  OwnFds* reg = fresh();
  Pipe original, replacement;
  std::atomic<int> holder{-1};
  const int fd = reg->adopt(original.r, holder);
  original.r = -1;
  ASSERT_EQ(dup3(replacement.r, fd, O_CLOEXEC), fd);  // as the session replaces a socket
  reg->renew(holder);
  reg->close(holder);
  EXPECT_FALSE(is_open(fd)) << "the renewed identity matches: ours to close";
}

TEST(OwnFds, ASmallLimitStillKeepsOursAboveHalfOfIt) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Only if this process's descriptors leave room below 64 (they do under ctest).
  if (free_number(3) >= 32) GTEST_SKIP() << "too many descriptors open for this test";
  rlimit small = saved;
  small.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &small), 0);
  OwnFds* reg = fresh();
  std::atomic<int> holder{-1};
  const int fd = reg->adopt(eventfd(0, EFD_CLOEXEC), holder);
  setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_GE(fd, 32);
  EXPECT_LT(fd, 64);
  reg->close(holder);
}

TEST(OwnFds, AForkChildClosesItsOwnCopies) {
  OwnFds* reg = fresh();
  std::atomic<int> holder{-1};
  const int fd = reg->adopt(eventfd(0, EFD_CLOEXEC), holder);
  reg->lock_for_fork();
  const pid_t pid = fork();
  if (pid == 0) {
    reg->unlock_after_fork();
    const bool own = reg->is_own(fd);
    reg->close(holder);
    _exit(own && !is_open(fd) && holder.load() == -1 ? 0 : 1);
  }
  reg->unlock_after_fork();
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(is_open(fd)) << "the parent's stays";
  reg->close(holder);
}

}  // namespace
}  // namespace socksify
