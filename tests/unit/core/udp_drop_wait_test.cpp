#include "core/udp_drop_wait.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace socksify {
namespace {

using Clock = std::chrono::steady_clock;

// A UDP socket on loopback that can send to itself.
class LoopbackUdp {
 public:
  LoopbackUdp() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof self_;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&self_), &len);
  }
  ~LoopbackUdp() { close(fd_); }
  int fd() const { return fd_; }
  void timeout_ms(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void nonblocking() { fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK); }
  void send_self() { sendto(fd_, "x", 1, 0, reinterpret_cast<sockaddr*>(&self_), sizeof self_); }

 private:
  int fd_ = -1;
  sockaddr_in self_{};
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

TEST(UdpDropWait, NonBlockingSocketAsksWithoutWaitingThenStopsAfterTheDrainLimit) {
  LoopbackUdp s;
  s.nonblocking();
  DropWait w(s.fd(), MSG_PEEK);
  for (int i = 0; i < DropWait::kMaxDrops; ++i) {
    auto f = w.after_drop();
    ASSERT_TRUE(f) << i;
    EXPECT_EQ(f.value(), MSG_PEEK | MSG_DONTWAIT);
  }
  auto last = w.after_drop();
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().code, EAGAIN);
  EXPECT_FALSE(w.waits_again());
}

TEST(UdpDropWait, MsgDontwaitOnABlockingSocketIsNonBlockingToo) {
  LoopbackUdp s;
  s.timeout_ms(5000);  // never looked at: the call itself does not wait
  DropWait w(s.fd(), MSG_DONTWAIT);
  const auto t0 = Clock::now();
  auto f = w.after_drop();
  ASSERT_TRUE(f);
  EXPECT_EQ(f.value(), MSG_DONTWAIT);
  EXPECT_LT(ms_since(t0), 100);
}

TEST(UdpDropWait, BlockingWithoutATimeoutWaitsOnWithTheProgramsFlags) {
  LoopbackUdp s;
  DropWait w(s.fd(), 0);
  auto f = w.after_drop();
  ASSERT_TRUE(f);
  EXPECT_EQ(f.value(), 0);  // a blocking receive again: the kernel's own wait
  EXPECT_FALSE(w.waits_again());
}

TEST(UdpDropWait, TheTimeoutCountsFromTheCallsStartNotFromTheDrop) {
  LoopbackUdp s;
  s.timeout_ms(300);
  const auto t0 = Clock::now();
  DropWait w(s.fd(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the first datagram took this long
  auto f = w.after_drop();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, EAGAIN);  // what the kernel says when SO_RCVTIMEO runs out
  const double total = ms_since(t0);
  EXPECT_GE(total, 290);
  EXPECT_LT(total, 500);  // not 250 + a fresh 300
  EXPECT_TRUE(w.waits_again());
}

TEST(UdpDropWait, ATimedWaitEndsAtOnceWhenTheTimeoutIsAlreadyOver) {
  LoopbackUdp s;
  s.timeout_ms(50);
  DropWait w(s.fd(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  s.send_self();  // even with a datagram queued: the program's time is up
  const auto t0 = Clock::now();
  auto f = w.after_drop();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, EAGAIN);
  EXPECT_LT(ms_since(t0), 20);
}

TEST(UdpDropWait, ATimedWaitHandsOverAQueuedDatagramWithoutBlocking) {
  LoopbackUdp s;
  s.timeout_ms(2000);
  DropWait w(s.fd(), MSG_TRUNC);
  s.send_self();
  const auto t0 = Clock::now();
  auto f = w.after_drop();
  ASSERT_TRUE(f);
  EXPECT_EQ(f.value(), MSG_TRUNC | MSG_DONTWAIT);
  EXPECT_LT(ms_since(t0), 100);
}

}  // namespace
}  // namespace socksify
