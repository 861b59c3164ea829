// Reaching into a thread from the supervisor, tried on this process's own
// threads: descriptor copies through the kept thread pidfds (a gone thread's
// pidfd must not answer), and the two-part memory write.
#include "supervisor/target_memory.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace socksify::supervisor {
namespace target_memory_test {  // named: the unit tests are unity-built

pid_t this_thread() {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

ino_t inode(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

TEST(TargetMemory, CopiesTheSameFileTwiceThroughTheKeptPidfd) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  for (int round = 0; round < 2; ++round) {  // the second: the kept pidfd
    auto copy = copy_descriptor(this_thread(), pipe_fds[0]);
    ASSERT_TRUE(copy) << round;
    EXPECT_NE(copy->get(), pipe_fds[0]);
    EXPECT_EQ(inode(copy->get()), inode(pipe_fds[0]));
  }
  ::close(pipe_fds[1]);
  const int closed = pipe_fds[0];
  ::close(closed);
  auto gone = copy_descriptor(this_thread(), closed);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, EBADF);
}

TEST(TargetMemory, AGoneThreadsKeptPidfdDoesNotAnswer) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t tid = 0;
  bool copied = false;
  std::thread t([&] {
    tid = this_thread();
    copied = static_cast<bool>(copy_descriptor(tid, pipe_fds[0]));  // keeps its pidfd
  });
  t.join();
  ASSERT_TRUE(copied);
  // The thread is gone (joined); unless its id was given to a new thread in
  // between (not in this test's process), nothing may be copied for it.
  auto copy = copy_descriptor(tid, pipe_fds[0]);
  ASSERT_FALSE(copy);
  EXPECT_EQ(copy.error().code, ESRCH);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(TargetMemory, WritesTwoPiecesInOrderAndStopsAtAFault) {
  char first[4] = {};
  int second = 0;
  const char text[4] = {'a', 'b', 'c', 'd'};
  const int number = 42;
  const auto at = [](const void* p) { return reinterpret_cast<std::uint64_t>(p); };
  ASSERT_TRUE(write_memory(this_thread(), at(first), std::as_bytes(std::span(text)), at(&second),
                           std::as_bytes(std::span(&number, 1))));
  EXPECT_EQ(std::memcmp(first, text, sizeof text), 0);
  EXPECT_EQ(second, 42);

  void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  std::memset(first, 0, sizeof first);
  auto st = write_memory(this_thread(), at(first), std::as_bytes(std::span(text)), at(page),
                         std::as_bytes(std::span(&number, 1)));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, EFAULT);
  EXPECT_EQ(std::memcmp(first, text, sizeof text), 0);  // the first piece went in

  second = 0;
  st = write_memory(this_thread(), at(page), std::as_bytes(std::span(text)), at(&second),
                    std::as_bytes(std::span(&number, 1)));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, EFAULT);
  EXPECT_EQ(second, 0);  // nothing after the fault
  ::munmap(page, 4096);
}

}  // namespace target_memory_test
}  // namespace socksify::supervisor
