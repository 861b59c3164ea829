// The connect part's state machine (core/connect_state.hpp) and the head's
// answers built on it (core/fd_state.hpp), driven as the worker pool and the
// hooks drive them, with no socket: every descriptor number here is made up.
#include "core/connect_state.hpp"

#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

#include "base/endpoint.hpp"
#include "core/fd_state.hpp"

namespace socksify {
namespace {

using Watchers = ConnectState::Watcher[ConnectState::kMaxWatchers];

constexpr auto kRearm = [] { return true; };
constexpr auto kNoRearm = [] { return false; };

FdState& fresh(FdState& s, FdState::Kind kind) {
  s.reset(kind);
  return s;
}

sockaddr_in ipv4(std::uint8_t last, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x0a000000u | last);
  return a;
}

TEST(ConnectState, AFreshStateIsNeitherConnectingNorFailed) {
  ConnectState c;
  c.reset();
  EXPECT_FALSE(c.connecting());
  EXPECT_FALSE(c.has_handshake());
  EXPECT_FALSE(c.failed());
  EXPECT_EQ(c.take_error(), 0);
}

TEST(ConnectState, PendingThenSettledWithAnErrorReportsItOnce) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  EXPECT_TRUE(c.connecting());
  EXPECT_TRUE(c.has_handshake());
  EXPECT_FALSE(c.blocking());
  const std::uint32_t before = c.generation().load();
  Watchers out;
  EXPECT_EQ(c.settle(ECONNREFUSED, kRearm, out), 0);
  EXPECT_FALSE(c.connecting());
  EXPECT_EQ(c.generation().load(), before + 1);  // a blocking connect() wakes on it
  EXPECT_TRUE(c.failed());
  // Published, but the worker is still re-arming on the number: close() must
  // still go through the pool until the job is over.
  EXPECT_TRUE(c.has_handshake());
  EXPECT_TRUE(c.end_job(&job));  // the worker's was the only reference
  EXPECT_FALSE(c.has_handshake());
  EXPECT_EQ(c.take_error(), ECONNREFUSED);
  EXPECT_EQ(c.take_error(), 0) << "SO_ERROR is read-and-clear";
  EXPECT_TRUE(c.failed()) << "still no tunnel: getpeername stays ENOTCONN";
}

TEST(ConnectState, ABlockingConnectGetsItsOutcomeEvenAfterSoErrorReadIt) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, true);
  EXPECT_TRUE(c.blocking());
  Watchers out;
  c.settle(ETIMEDOUT, kNoRearm, out);
  EXPECT_EQ(c.take_error(), ETIMEDOUT);  // another thread asked SO_ERROR first
  EXPECT_EQ(c.take_outcome(), ETIMEDOUT);
  EXPECT_EQ(c.take_error(), 0);
  EXPECT_TRUE(c.end_job(&job));
}

TEST(ConnectState, ATunnelThatStandsHasNoErrorAndKnowsTheProxysEnd) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  sockaddr_in got{};
  socklen_t len = sizeof got;
  c.set_proxy_end(Endpoint::ipv4(std::array<std::uint8_t, 4>{192, 0, 2, 9}, 4242), AF_INET);
  EXPECT_FALSE(c.proxy_end(reinterpret_cast<sockaddr*>(&got), &len)) << "not before it stands";
  Watchers out;
  c.settle(0, kRearm, out);
  EXPECT_TRUE(c.end_job(&job));
  EXPECT_FALSE(c.failed());
  EXPECT_EQ(c.take_error(), 0);
  ASSERT_TRUE(c.proxy_end(reinterpret_cast<sockaddr*>(&got), &len));
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(ntohs(got.sin_port), 4242);
  EXPECT_EQ(ntohl(got.sin_addr.s_addr), 0xc0000209u);
}

TEST(ConnectState, TheProxysEndShowsAsV4MappedOnAnIpv6Socket) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  c.set_proxy_end(Endpoint::ipv4(std::array<std::uint8_t, 4>{192, 0, 2, 9}, 21), AF_INET6);
  Watchers out;
  c.settle(0, kRearm, out);
  sockaddr_in6 got{};
  socklen_t len = sizeof got;
  ASSERT_TRUE(c.proxy_end(reinterpret_cast<sockaddr*>(&got), &len));
  EXPECT_EQ(got.sin6_family, AF_INET6);
  EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&got.sin6_addr));
  EXPECT_TRUE(c.end_job(&job));
}

TEST(ConnectState, EpollRegistrationsWaitForTheTunnelAndComeBackAtSettle) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  // Recorded, not made: no epoll descriptor exists behind these numbers.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ASSERT_EQ(c.epoll_ctl(100, EPOLL_CTL_ADD, 7, &ev), 0);
  errno = 0;
  EXPECT_EQ(c.epoll_ctl(100, EPOLL_CTL_ADD, 7, &ev), -1);
  EXPECT_EQ(errno, EEXIST);
  ev.events = EPOLLOUT;
  EXPECT_EQ(c.epoll_ctl(100, EPOLL_CTL_MOD, 7, &ev), 0);
  EXPECT_EQ(c.epoll_ctl(101, EPOLL_CTL_ADD, 7, &ev), 0);
  EXPECT_EQ(c.epoll_ctl(101, EPOLL_CTL_DEL, 7, nullptr), 0);
  Watchers out;
  ASSERT_EQ(c.settle(0, kRearm, out), 1);
  EXPECT_EQ(out[0].epfd, 100);
  EXPECT_EQ(out[0].ev.events, static_cast<std::uint32_t>(EPOLLOUT));
  EXPECT_TRUE(c.end_job(&job));
}

TEST(ConnectState, AFullSetOfRegistrationsIsRefusedNotDropped) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  epoll_event ev{};
  for (int i = 0; i < ConnectState::kMaxWatchers; ++i) {
    ASSERT_EQ(c.epoll_ctl(100 + i, EPOLL_CTL_ADD, 7, &ev), 0);
  }
  errno = 0;
  EXPECT_EQ(c.epoll_ctl(200, EPOLL_CTL_ADD, 7, &ev), -1);
  EXPECT_EQ(errno, ENOSPC);
  Watchers out;
  EXPECT_EQ(c.settle(0, kNoRearm, out), 0) << "the number is not the program's any more";
  EXPECT_TRUE(c.end_job(&job));
}

TEST(ConnectState, CloseWhilePendingCancelsAJobNoWorkerTookYet) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  epoll_event ev{};
  ASSERT_EQ(c.epoll_ctl(100, EPOLL_CTL_ADD, 7, &ev), 0);
  // close() of the last descriptor.
  HandshakeJob* pinned = c.pin_for_close();
  ASSERT_EQ(pinned, &job);
  EXPECT_EQ(job.cancel(), HandshakeJob::Cancel::Skipped);
  EXPECT_TRUE(job.cancelled());
  EXPECT_TRUE(job.cancelled_flag()->load()) << "the handshake's I/O and log lines stop";
  EXPECT_FALSE(c.unpin(&job)) << "the worker's reference remains";
  // The worker comes to it later and must not touch the number.
  EXPECT_FALSE(job.take());
  Watchers out;
  EXPECT_EQ(c.settle(ECANCELED, kRearm, out), 0) << "close() forgot the registrations";
  EXPECT_TRUE(c.end_job(&job));
  EXPECT_FALSE(c.has_handshake());
}

TEST(ConnectState, CloseWhileTheWorkerRunsWaitsForItToLetGo) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  ASSERT_TRUE(job.take());
  ASSERT_EQ(c.pin_for_close(), &job);
  EXPECT_EQ(job.cancel(), HandshakeJob::Cancel::Running);  // the caller shuts the socket down
  Watchers out;
  c.settle(
      ECONNABORTED, [&] { return !job.cancelled(); }, out);
  EXPECT_FALSE(job.release()) << "not held: the number is close()'s to free";
  job.wait_until_released();  // returns at once now
  EXPECT_EQ(job.cancel(), HandshakeJob::Cancel::Over);
  EXPECT_FALSE(c.end_job(&job));
  EXPECT_TRUE(c.unpin(&job)) << "close() was the last to look at it";
}

TEST(ConnectState, ClosingOneOfTwoDescriptorsLeavesTheNumberToTheWorker) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  ASSERT_TRUE(job.take());
  EXPECT_TRUE(job.hold());
  EXPECT_TRUE(job.held());
  Watchers out;
  EXPECT_EQ(c.settle(
                0, [&] { return !job.held(); }, out),
            0);
  EXPECT_TRUE(job.release()) << "held: the worker closes the number";
  EXPECT_FALSE(job.held());
  job.wait_until_unheld();  // returns at once now
  EXPECT_FALSE(job.hold()) << "over: nothing to hold any more";
  EXPECT_TRUE(c.end_job(&job));
}

TEST(ConnectState, BeginUndoneLeavesNoHandshake) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, true);
  c.abandon();
  EXPECT_FALSE(c.connecting());
  EXPECT_FALSE(c.has_handshake());
  EXPECT_FALSE(c.failed());
}

TEST(ConnectState, AForkedChildAbortsTheConnectAndForgetsTheParentsJob) {
  ConnectState c;
  c.reset();
  HandshakeJob job(7);
  c.begin(&job, false);
  c.reset_in_child();
  EXPECT_FALSE(c.connecting());
  EXPECT_FALSE(c.has_handshake()) << "close() in the child must not shut the parent's socket";
  EXPECT_EQ(c.take_error(), ECONNABORTED);
}

TEST(ConnectState, NoEventfdOnceTheHandshakeIsOver) {
  ConnectState c;
  c.reset();
  EXPECT_EQ(c.hold_done_fd(), -1);  // poll the socket itself
  EXPECT_EQ(c.done_fd_for_test(), -1);
}

TEST(SocketName, AnIpv4AddressShowsAsV4MappedOnAnIpv6SocketAndBack) {
  SocketName n;
  const Endpoint ep = Endpoint::ipv4(std::array<std::uint8_t, 4>{192, 0, 2, 7}, 2121);
  ASSERT_TRUE(n.set(ep, AF_INET6));
  EXPECT_EQ(n.family(), AF_INET6);
  EXPECT_EQ(n.size(), sizeof(sockaddr_in6));
  ASSERT_TRUE(n.endpoint());
  EXPECT_EQ(n.endpoint()->unmapped(), ep);
  ASSERT_TRUE(n.set(ep, AF_INET));
  EXPECT_EQ(n.size(), sizeof(sockaddr_in));
}

TEST(SocketName, AShortBufferGetsWhatFitsAndTheFullLength) {
  SocketName n;
  const sockaddr_in a = ipv4(3, 80);
  n.set(reinterpret_cast<const sockaddr*>(&a), sizeof a);
  sockaddr_in got{};
  socklen_t len = 4;
  n.copy_out(reinterpret_cast<sockaddr*>(&got), &len);
  EXPECT_EQ(len, sizeof a);
  EXPECT_EQ(got.sin_family, AF_INET);
  EXPECT_EQ(got.sin_port, a.sin_port);
  EXPECT_EQ(got.sin_addr.s_addr, 0u) << "beyond the 4 bytes asked for";
}

// --- the head's answers (core/fd_state.hpp) ---

TEST(FdStateHead, SoErrorIsZeroWhileConnectingThenTheErrorOnceThenTheKernels) {
  FdState s;
  fresh(s, FdState::Kind::TcpTunnel);
  HandshakeJob job(7);
  s.connect.begin(&job, false);
  EXPECT_TRUE(s.connecting());
  EXPECT_EQ(s.take_connect_error(), 0);
  Watchers out;
  s.connect.settle(EHOSTUNREACH, kRearm, out);
  EXPECT_FALSE(s.connecting());
  EXPECT_EQ(s.take_connect_error(), EHOSTUNREACH);
  EXPECT_EQ(s.take_connect_error(), std::nullopt);
  EXPECT_TRUE(s.connect.end_job(&job));
}

TEST(FdStateHead, OnlyTunnelsAnswerSoErrorOrConnect) {
  FdState s;
  fresh(s, FdState::Kind::Udp);
  EXPECT_FALSE(s.connecting());
  EXPECT_EQ(s.take_connect_error(), std::nullopt);
  EXPECT_FALSE(s.on_close(7)) << "no handshake: nothing for the pool to do";
  EXPECT_TRUE(s.before_connect(7));
}

TEST(FdStateHead, PeerNameIsThePeerAsPassedOnceTheTunnelStands) {
  FdState s;
  fresh(s, FdState::Kind::TcpTunnel);
  sockaddr_in got{};
  socklen_t len = sizeof got;
  auto* out_addr = reinterpret_cast<sockaddr*>(&got);
  EXPECT_EQ(s.peer_name(out_addr, &len), std::nullopt) << "no peer recorded: the kernel's";
  const sockaddr_in peer = ipv4(5, 80);
  s.peer.set(reinterpret_cast<const sockaddr*>(&peer), sizeof peer);
  HandshakeJob job(7);
  s.connect.begin(&job, false);
  auto answer = s.peer_name(out_addr, &len);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->error().code, ENOTCONN) << "still connecting";
  Watchers out;
  s.connect.settle(0, kRearm, out);
  answer = s.peer_name(out_addr, &len);
  ASSERT_TRUE(answer && *answer);
  EXPECT_EQ(len, sizeof peer);
  EXPECT_EQ(std::memcmp(&got, &peer, sizeof peer), 0);
  EXPECT_TRUE(s.connect.end_job(&job));
}

TEST(FdStateHead, ATunnelTheProxyRefusedHasNoPeer) {
  FdState s;
  fresh(s, FdState::Kind::TcpTunnel);
  const sockaddr_in peer = ipv4(5, 80);
  s.peer.set(reinterpret_cast<const sockaddr*>(&peer), sizeof peer);
  HandshakeJob job(7);
  s.connect.begin(&job, false);
  Watchers out;
  s.connect.settle(ECONNREFUSED, kRearm, out);
  sockaddr_in got{};
  socklen_t len = sizeof got;
  auto answer = s.peer_name(reinterpret_cast<sockaddr*>(&got), &len);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->error().code, ENOTCONN);
  EXPECT_TRUE(s.connect.end_job(&job));
}

TEST(FdStateHead, AListenerAtTheProxyHasNoPeer) {
  FdState s;
  fresh(s, FdState::Kind::TcpBind);
  auto answer = s.peer_name(nullptr, nullptr);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->error().code, ENOTCONN);
}

TEST(FdStateHead, TheBindPartIsResetWhenTheStateIsReused) {
  FdState s;
  fresh(s, FdState::Kind::TcpBindCandidate);
  const sockaddr_in bound = ipv4(1, 0);
  s.bind.remember_bound(reinterpret_cast<const sockaddr*>(&bound), sizeof bound);
  s.bind.open_failed(ECONNREFUSED);  // listen() failed and said so
  SocketName at;
  ASSERT_TRUE(at.set(Endpoint::ipv4(std::array<std::uint8_t, 4>{192, 0, 2, 1}, 5000), AF_INET));
  s.bind.listening_at(at);
  EXPECT_TRUE(s.bind.bound().known());
  EXPECT_TRUE(s.bind.listen_address().known());
  fresh(s, FdState::Kind::TcpBindCandidate);  // the next socket, in the same memory
  EXPECT_EQ(s.bind.open_error(), 0) << "the next candidate must try its own BIND";
  EXPECT_FALSE(s.bind.bound().known());
  EXPECT_FALSE(s.bind.listen_address().known());
}

TEST(FdStateHead, BindFailuresAreNotConnectErrors) {
  FdState s;
  fresh(s, FdState::Kind::TcpBindCandidate);
  s.bind.open_failed(ECONNREFUSED);
  EXPECT_FALSE(s.connect.failed());
  EXPECT_EQ(s.take_connect_error(), std::nullopt);
}

TEST(FdStateHead, EveryPartIsResetWhateverTheNewKind) {
  FdState s;
  fresh(s, FdState::Kind::TcpTunnel);
  HandshakeJob job(7);
  s.connect.begin(&job, true);
  Watchers out;
  s.connect.settle(ECONNREFUSED, kRearm, out);
  s.udp.set_direct_peer(true);
  fresh(s, FdState::Kind::TcpTunnel);
  EXPECT_FALSE(s.connect.failed());
  EXPECT_FALSE(s.connect.blocking());
  EXPECT_FALSE(s.connect.has_handshake());
  EXPECT_FALSE(s.udp.direct_peer());
  EXPECT_EQ(s.udp.association(), nullptr);
}

}  // namespace
}  // namespace socksify
