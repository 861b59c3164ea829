#include "core/fd_table.hpp"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/own_fds.hpp"

namespace socksify {
namespace {

// A private table per test: the real one is a process-wide singleton. Tables
// stay alive to the end, as the real one does: their pooled states are never
// freed by design, and LeakSanitizer would call them leaked otherwise.
FdTable* fresh() {
  static auto* tables = new std::vector<std::unique_ptr<FdTable>>;  // never destroyed
  tables->push_back(std::make_unique<FdTable>());
  return tables->back().get();
}

TEST(FdTable, UnmanagedAndOutOfRangeDescriptorsHaveNoState) {
  auto t = fresh();
  EXPECT_EQ(t->get(5), nullptr);
  EXPECT_EQ(t->get(-1), nullptr);
  EXPECT_EQ(t->get(FdTable::kCapacity), nullptr);
  EXPECT_EQ(t->create(FdTable::kCapacity, FdState::Kind::TcpTunnel), nullptr);
  EXPECT_EQ(t->live(), 0);
}

TEST(FdTable, DupSharesOneStateUntilTheLastDescriptorCloses) {
  auto t = fresh();
  FdState* s = t->create(3, FdState::Kind::Udp);
  ASSERT_NE(s, nullptr);
  t->share(3, 7);
  EXPECT_EQ(t->get(7), s);
  EXPECT_EQ(s->refs.load(), 2);
  t->release(3);
  EXPECT_EQ(t->get(3), nullptr);
  EXPECT_EQ(t->live(), 1);  // fd 7 still holds it
  t->release(7);
  EXPECT_EQ(t->live(), 0);
}

TEST(FdTable, DupOfAnUnmanagedDescriptorOntoAManagedOneForgetsIt) {
  auto t = fresh();
  t->create(4, FdState::Kind::TcpTunnel);
  t->share(9, 4);  // dup2(9, 4) where 9 is not ours
  EXPECT_EQ(t->get(4), nullptr);
  EXPECT_EQ(t->live(), 0);
}

TEST(FdTable, ReleasedStatesAreRecycledFreshNotFreed) {
  auto t = fresh();
  FdState* first = t->create(3, FdState::Kind::TcpTunnel);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  first->peer.set(reinterpret_cast<sockaddr*>(&peer), sizeof peer);
  HandshakeJob job(3);
  first->connect.begin(&job, false);
  ConnectState::Watcher out[ConnectState::kMaxWatchers];
  first->connect.settle(
      ECONNREFUSED, [] { return false; }, out);
  (void)first->connect.end_job(&job);
  t->release(3);
  FdState* second = t->create(8, FdState::Kind::Udp);
  EXPECT_EQ(second, first);  // type-stable memory: a racing reader never sees freed memory
  EXPECT_EQ(second->kind, FdState::Kind::Udp);
  EXPECT_FALSE(second->peer.known());
  EXPECT_FALSE(second->connect.failed());
  EXPECT_EQ(second->connect.take_error(), 0);
  EXPECT_EQ(second->refs.load(), 1);
  t->release(8);
}

TEST(FdTable, CloseRangeReleasesOnlyTheRange) {
  auto t = fresh();
  for (int fd : {3, 4, 10, 20}) t->create(fd, FdState::Kind::TcpTunnel);
  t->release_range(4, 10);
  EXPECT_NE(t->get(3), nullptr);
  EXPECT_EQ(t->get(4), nullptr);
  EXPECT_EQ(t->get(10), nullptr);
  EXPECT_NE(t->get(20), nullptr);
  t->release_range(0, ~0u);  // close_range(0, ~0U): must stop at the table's end
  EXPECT_EQ(t->live(), 0);
}

TEST(FdTable, HeldStateOutlivesItsDescriptor) {
  auto t = fresh();
  FdState* s = t->create(5, FdState::Kind::TcpTunnel);
  t->hold(s);  // the helper thread of a non-blocking connect
  t->release(5);
  EXPECT_EQ(t->live(), 1);
  t->put(s);
  EXPECT_EQ(t->live(), 0);
}

}  // namespace
}  // namespace socksify

namespace socksify {
namespace {

TEST(FdTable, AForkedChildGetsUsableLocksAndNoConnectInFlight) {
  auto t = fresh();
  FdState* s = t->create(6, FdState::Kind::TcpTunnel);
  HandshakeJob job(6);
  s->connect.begin(&job, false);
  // Another thread holds the state's lock when the process forks: the worker,
  // settling the handshake (settle asks rearm() under the lock).
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    ConnectState::Watcher out[ConnectState::kMaxWatchers];
    s->connect.settle(
        0,
        [&] {
          holding.store(true);
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          return false;
        },
        out);
  });
  while (!holding.load()) std::this_thread::yield();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    t->reset_in_child();
    // take_error() takes the lock: a deadlock here would time the test out.
    const bool ok =
        !s->connecting() && !s->connect.has_handshake() && s->connect.take_error() == ECONNABORTED;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  holder.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The parent's connect went on: its worker settled it, with no error.
  EXPECT_FALSE(s->connecting());
  EXPECT_EQ(s->connect.take_outcome(), 0);
  EXPECT_TRUE(s->connect.end_job(&job));
}

TEST(FdTable, TheLastReleaseClosesTheEventfdAsOneOfSocksifysOwn) {
  auto t = fresh();
  FdState* s = t->create(5, FdState::Kind::TcpTunnel);
  ASSERT_NE(s, nullptr);
  HandshakeJob job(5);
  s->connect.begin(&job, false);
  const int done = s->connect.hold_done_fd();  // a poll() made it
  ASSERT_GE(done, 0);
  s->connect.release_done_fd();  // still connecting: it stays
  EXPECT_TRUE(own_fds().is_own(done));
  t->share(5, 6);
  t->release(5);
  EXPECT_NE(fcntl(done, F_GETFD), -1) << "fd 6 still refers to the state";
  t->release(6);
  EXPECT_EQ(s->connect.done_fd_for_test(), -1);
  EXPECT_EQ(fcntl(done, F_GETFD), -1);
  EXPECT_FALSE(own_fds().is_own(done));
}

}  // namespace
}  // namespace socksify
