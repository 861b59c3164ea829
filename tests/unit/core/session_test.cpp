// open_session on a fake SessionIo: failover, chains, refusals and the flags
// it leaves, with no socket. Each fake proxy is an address the session may
// connect to, with a connect error or the bytes it answers.
#include "core/session.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "../socks5/wire_bytes.hpp"
#include "core/log.hpp"
#include "core/session_io.hpp"
#include "core/upstream.hpp"
#include "test_runtime.hpp"

namespace socksify {
namespace {

using socks5::testing::Bytes;
using socks5::testing::bytes;
using socks5::testing::cat;
using socks5::testing::hex;

const Bytes kNoAuth = bytes({0x05, 0x00});
const Bytes kNoneAcceptable = bytes({0x05, 0xFF});
// Succeeded, BND 10.9.9.9:4242.
const Bytes kReplyOk = bytes({0x05, 0x00, 0x00, 0x01, 10, 9, 9, 9, 0x10, 0x92});
const Bytes kReplyRefused = bytes({0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0});
const Bytes kGreeting = bytes({0x05, 0x01, 0x00});

Endpoint ip(const char* text, std::uint16_t port) {
  std::uint8_t a[16];
  if (inet_pton(AF_INET, text, a) == 1)
    return Endpoint::ipv4(std::span<const std::uint8_t, 4>(a, 4), port);
  EXPECT_EQ(inet_pton(AF_INET6, text, a), 1) << text;
  return Endpoint::ipv6(std::span<const std::uint8_t, 16>(a, 16), port);
}

const Endpoint kDst = ip("192.0.2.7", 80);

Bytes request(const Endpoint& dst) {
  std::array<std::byte, socks5::kMaxRequest> out{};
  auto n = socks5::encode_request(out, socks5::Command::Connect, dst);
  EXPECT_TRUE(n);
  return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n ? *n : 0));
}

std::string text(const Endpoint& ep) {
  return fmt::format("{}", ep);
}

struct FakeProxy {
  std::optional<Errno> connect_error;  // connect() fails with this
  Bytes answers;                       // what it sends, then it hangs up (ECONNRESET)
  Bytes written;                       // what the session sent it
  // When set, connection k gets later[k] instead of `answers` (the last one repeats).
  std::vector<Bytes> later;
  std::vector<Bytes> writes_per_connection;
  std::size_t connections = 0;
};

// Serves the connected proxy's answers and records what the session writes.
class FakeStream final : public socks5::Stream {
 public:
  explicit FakeStream(FakeProxy& p)
      : p_(p),
        answers_(p.later.empty() ? p.answers
                                 : p.later[std::min(p.connections, p.later.size() - 1)]) {
    ++p_.connections;
    p_.writes_per_connection.emplace_back();
  }
  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    if (pos_ == answers_.size()) return Errno{ECONNRESET};
    const std::size_t n = std::min(buf.size(), answers_.size() - pos_);
    std::memcpy(buf.data(), answers_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    p_.written.insert(p_.written.end(), buf.begin(), buf.end());
    p_.writes_per_connection.back().insert(p_.writes_per_connection.back().end(), buf.begin(),
                                           buf.end());
    return buf.size();
  }

 private:
  FakeProxy& p_;
  Bytes answers_;
  std::size_t pos_ = 0;
};

class FakeIo final : public SessionIo {
 public:
  std::map<std::string, FakeProxy> proxies;  // by "addr:port" as connected to
  int socket_family = AF_INET;
  int flags = 0;  // a blocking socket
  std::vector<std::string> connects;
  std::vector<int> flag_changes;
  std::vector<int> replaced_with;
  int disconnects = 0;

  int family(int) override { return socket_family; }
  int status_flags(int) override { return flags; }
  void set_status_flags(int, int f) override {
    flags = f;
    flag_changes.push_back(f);
  }
  Status replace_socket(int, int f) override {
    replaced_with.push_back(f);
    socket_family = f;
    return {};
  }
  Status connect(int, const sockaddr* addr, socklen_t len, Deadline) override {
    auto ep = Endpoint::from_sockaddr(addr, len);
    EXPECT_TRUE(ep);
    const std::string at = text(*ep);
    connects.push_back(at);
    auto it = proxies.find(at);
    if (it == proxies.end()) return Errno{ECONNREFUSED};  // nobody listens there
    if (it->second.connect_error) return *it->second.connect_error;
    connected_ = &it->second;
    return {};
  }
  socks5::Stream& stream(int, Deadline) override {
    EXPECT_NE(connected_, nullptr);
    stream_.emplace(*connected_);
    return *stream_;
  }
  void disconnect(int) override {
    ++disconnects;
    connected_ = nullptr;
  }

 private:
  FakeProxy* connected_ = nullptr;
  std::optional<FakeStream> stream_;
};

using testing::runtime;

Runtime pool(const char* proxies) {
  return runtime({{"SOCKSIFY_PROXY", proxies}});
}
Runtime chain(const char* proxies) {
  return runtime({{"SOCKSIFY_PROXY", proxies}, {"SOCKSIFY_PROXY_MODE", "chain"}});
}

// What the reporter was told, in order: "fail N" per attempt, "ok" on success.
std::vector<std::string> g_reports;
void record(const SessionOutcome& o, const SessionAttempt* failed) {
  g_reports.push_back(failed ? fmt::format("fail {}", failed->proxy) : std::string("ok"));
  if (failed) EXPECT_EQ(failed, o.last_failure());
}

struct SessionRun {
  Result<socks5::Reply> reply;
  SessionOutcome outcome;
};

SessionRun run(const Runtime& rt, FakeIo& io, socks5::Command cmd = socks5::Command::Connect,
               bool may_replace = true) {
  g_reports.clear();
  SessionOutcome outcome;
  auto reply = open_session(rt, io, 7, cmd, kDst, outcome, {may_replace, nullptr, record});
  return {std::move(reply), outcome};
}

constexpr const char* kTwo = "socks5://10.0.0.1:1080,socks5://10.0.0.2:1080";

TEST(SessionFailover, FirstProxyDownSecondServes) {
  const Runtime rt = pool(kTwo);
  ASSERT_TRUE(rt.configured()) << rt.config_error();
  FakeIo io;
  io.proxies["10.0.0.1:1080"].connect_error = Errno{ECONNREFUSED};
  io.proxies["10.0.0.2:1080"].answers = cat({kNoAuth, kReplyOk});
  const SessionRun r = run(rt, io);
  ASSERT_TRUE(r.reply) << r.reply.error().code;
  EXPECT_EQ(text(r.reply->bound), "10.9.9.9:4242");
  EXPECT_EQ(io.connects, (std::vector<std::string>{"10.0.0.1:1080", "10.0.0.2:1080"}));
  EXPECT_EQ(hex(io.proxies["10.0.0.2:1080"].written), hex(cat({kGreeting, request(kDst)})));
  EXPECT_EQ(io.disconnects, 1);  // the failed attempt's connection, not the tunnel

  const SessionOutcome& o = r.outcome;
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.served_by, 1u);
  EXPECT_EQ(o.served_spec, &rt.proxies()[1].spec);
  EXPECT_EQ(o.hops, 1u);
  EXPECT_EQ(text(o.bound), "10.9.9.9:4242");
  ASSERT_EQ(o.attempts().size(), 1u);
  const SessionAttempt& a = o.attempts()[0];
  EXPECT_EQ(a.proxy, 0u);
  EXPECT_EQ(a.stage, SessionStage::TcpConnect);
  EXPECT_EQ(a.error, Errno{ECONNREFUSED});
  EXPECT_TRUE(a.moved_on);
  EXPECT_EQ(g_reports, (std::vector<std::string>{"fail 0", "ok"}));
}

TEST(SessionFailover, ProxyHangingUpAtTheGreetingCountsAsDown) {
  const Runtime rt = pool(kTwo);
  FakeIo io;
  io.proxies["10.0.0.1:1080"];  // accepts, then closes without a byte
  io.proxies["10.0.0.2:1080"].answers = cat({kNoAuth, kReplyOk});
  const SessionRun r = run(rt, io);
  ASSERT_TRUE(r.reply);
  EXPECT_EQ(r.outcome.served_by, 1u);
  ASSERT_EQ(r.outcome.attempts().size(), 1u);
  EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::Greeting);
  EXPECT_EQ(r.outcome.attempts()[0].error, Errno{ECONNRESET});
  EXPECT_TRUE(r.outcome.attempts()[0].moved_on);
}

TEST(SessionFailover, ARefusalIsFinal) {
  const Runtime rt = pool(kTwo);
  FakeIo io;
  io.proxies["10.0.0.1:1080"].answers = cat({kNoAuth, kReplyRefused});
  io.proxies["10.0.0.2:1080"].answers = cat({kNoAuth, kReplyOk});
  const SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.reply.error(), Errno{ECONNREFUSED});  // REP 5
  EXPECT_EQ(io.connects, (std::vector<std::string>{"10.0.0.1:1080"}));
  EXPECT_FALSE(r.outcome.ok);
  const SessionAttempt* a = r.outcome.last_failure();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->proxy, 0u);
  EXPECT_EQ(a->stage, SessionStage::Reply);
  EXPECT_EQ(a->reply, 5);
  EXPECT_EQ(a->reason, socks5::reply_text(5));
  EXPECT_FALSE(a->moved_on);
  EXPECT_EQ(io.disconnects, 1);
  EXPECT_EQ(g_reports, (std::vector<std::string>{"fail 0"}));
}

TEST(SessionFailover, NoAcceptableMethodIsFinalAtTheMethodStage) {
  const Runtime rt = pool(kTwo);
  FakeIo io;
  io.proxies["10.0.0.1:1080"].answers = kNoneAcceptable;
  io.proxies["10.0.0.2:1080"].answers = cat({kNoAuth, kReplyOk});
  const SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.reply.error(), Errno{EACCES});
  EXPECT_EQ(io.connects.size(), 1u);
  ASSERT_EQ(r.outcome.attempts().size(), 1u);
  EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::Method);
  EXPECT_FALSE(r.outcome.attempts()[0].moved_on);
}

TEST(SessionFailover, AllDownGivesTheLastError) {
  const Runtime rt = pool("socks5://10.0.0.1:1080,socks5://10.0.0.2:1080,socks5://10.0.0.3:1080");
  FakeIo io;
  io.proxies["10.0.0.1:1080"].connect_error = Errno{ECONNREFUSED};
  io.proxies["10.0.0.2:1080"];  // hangs up at the greeting
  io.proxies["10.0.0.3:1080"].connect_error = Errno{ETIMEDOUT};
  const SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.reply.error(), Errno{ETIMEDOUT});
  EXPECT_EQ(io.connects.size(), 3u);
  EXPECT_EQ(io.disconnects, 3);
  const auto a = r.outcome.attempts();
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].stage, SessionStage::TcpConnect);
  EXPECT_EQ(a[1].stage, SessionStage::Greeting);
  EXPECT_EQ(a[2].error, Errno{ETIMEDOUT});
  EXPECT_TRUE(a[0].moved_on);
  EXPECT_TRUE(a[1].moved_on);
  EXPECT_FALSE(a[2].moved_on);  // nothing left to move on to
  EXPECT_EQ(g_reports, (std::vector<std::string>{"fail 0", "fail 1", "fail 2"}));
}

TEST(SessionFailover, ManyProxiesKeepTheFirstAttemptsAndTheLast) {
  std::string list;
  for (int i = 1; i <= 12; ++i)
    list += fmt::format("{}socks5://10.0.0.{}:1080", i > 1 ? "," : "", i);
  const Runtime rt = pool(list.c_str());
  ASSERT_EQ(rt.proxies().size(), 12u);
  FakeIo io;  // nobody listens anywhere
  const SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.outcome.failures, 12u);
  const auto a = r.outcome.attempts();
  ASSERT_EQ(a.size(), SessionOutcome::kKept);
  EXPECT_EQ(a[0].proxy, 0u);
  EXPECT_EQ(a[SessionOutcome::kKept - 2].proxy, SessionOutcome::kKept - 2);
  EXPECT_EQ(a.back().proxy, 11u);
  EXPECT_FALSE(a.back().moved_on);
}

TEST(SessionFailover, IPv6ProxyReplacesAnIPv4SocketOnlyWhenAllowed) {
  const Runtime rt = pool("socks5://[fd00::1]:1080,socks5://10.0.0.2:1080");
  {
    FakeIo io;
    io.proxies["[fd00::1]:1080"].answers = cat({kNoAuth, kReplyOk});
    const SessionRun r = run(rt, io);
    ASSERT_TRUE(r.reply);
    EXPECT_EQ(io.replaced_with, std::vector<int>{AF_INET6});
    EXPECT_EQ(r.outcome.served_by, 0u);
  }
  {
    FakeIo io;  // the worker thread's dup cannot be swapped
    io.proxies["[fd00::1]:1080"].answers = cat({kNoAuth, kReplyOk});
    io.proxies["10.0.0.2:1080"].answers = cat({kNoAuth, kReplyOk});
    const SessionRun r = run(rt, io, socks5::Command::Connect, /*may_replace=*/false);
    ASSERT_TRUE(r.reply);
    EXPECT_TRUE(io.replaced_with.empty());
    EXPECT_EQ(io.connects, std::vector<std::string>{"10.0.0.2:1080"});
    ASSERT_EQ(r.outcome.attempts().size(), 1u);
    EXPECT_EQ(r.outcome.attempts()[0].error, Errno{EAFNOSUPPORT});
    EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::TcpConnect);
  }
}

TEST(Session, ABlockingSocketIsNonBlockingDuringTheSessionAndRestoredAfter) {
  const Runtime rt = pool(kTwo);
  FakeIo io;
  io.flags = O_RDWR;
  io.proxies["10.0.0.1:1080"].answers = cat({kNoAuth, kReplyOk});
  ASSERT_TRUE(run(rt, io).reply);
  EXPECT_EQ(io.flag_changes, (std::vector<int>{O_RDWR | O_NONBLOCK, O_RDWR}));

  FakeIo nb;  // already non-blocking: left alone
  nb.flags = O_RDWR | O_NONBLOCK;
  nb.proxies["10.0.0.1:1080"].answers = cat({kNoAuth, kReplyOk});
  ASSERT_TRUE(run(rt, nb).reply);
  EXPECT_TRUE(nb.flag_changes.empty());
}

TEST(Session, UnconfiguredRuntimeRefusesWithoutTouchingTheSocket) {
  const Runtime rt = runtime({});
  ASSERT_FALSE(rt.configured());
  FakeIo io;
  const SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.reply.error(), Errno{ENETUNREACH});
  EXPECT_TRUE(io.connects.empty());
  EXPECT_TRUE(io.flag_changes.empty());
  ASSERT_EQ(r.outcome.attempts().size(), 1u);
  EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::Configuration);
  EXPECT_EQ(r.outcome.attempts()[0].reason, rt.config_error());
}

constexpr const char* kThree =
    "socks5://10.0.0.1:1080,socks5://10.0.0.2:1081,socks5://10.0.0.3:1082";

TEST(SessionChain, EveryHopIsAskedForTheNextHop) {
  const Runtime rt = chain(kThree);
  FakeIo io;
  io.proxies["10.0.0.1:1080"].answers =
      cat({kNoAuth, kReplyOk, kNoAuth, kReplyOk, kNoAuth, kReplyOk});
  const SessionRun r = run(rt, io);
  ASSERT_TRUE(r.reply) << r.reply.error().code;
  // Only the first hop is connected to; the others are reached through it.
  EXPECT_EQ(io.connects, std::vector<std::string>{"10.0.0.1:1080"});
  EXPECT_EQ(hex(io.proxies["10.0.0.1:1080"].written),
            hex(cat({kGreeting, request(ip("10.0.0.2", 1081)), kGreeting,
                     request(ip("10.0.0.3", 1082)), kGreeting, request(kDst)})));
  EXPECT_TRUE(r.outcome.ok);
  EXPECT_TRUE(r.outcome.chain);
  EXPECT_EQ(r.outcome.hops, 3u);
  EXPECT_EQ(r.outcome.served_by, 2u);
  EXPECT_EQ(r.outcome.failures, 0u);
  EXPECT_EQ(io.disconnects, 0);
}

TEST(SessionChain, AFailingHopReportsItsIndex) {
  const Runtime rt = chain(kThree);
  FakeIo io;
  // Hop 1 connects to hop 2; hop 2 refuses to reach hop 3.
  io.proxies["10.0.0.1:1080"].answers = cat({kNoAuth, kReplyOk, kNoAuth, kReplyRefused});
  const SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.reply.error(), Errno{ECONNREFUSED});
  ASSERT_EQ(r.outcome.attempts().size(), 1u);
  const SessionAttempt& a = r.outcome.attempts()[0];
  EXPECT_EQ(a.proxy, 1u);
  EXPECT_EQ(a.spec, &rt.proxies()[1].spec);
  EXPECT_EQ(a.stage, SessionStage::Reply);
  EXPECT_EQ(a.reply, 5);
  EXPECT_FALSE(a.moved_on);  // a chain has no failover
  EXPECT_EQ(io.disconnects, 1);
  fmt::memory_buffer line;
  format_attempt(line, r.outcome, a);
  EXPECT_EQ(fmt::to_string(line), fmt::format("connect to 192.0.2.7:80 via chain hop 2 "
                                              "(socks5://10.0.0.2:1081) failed: {} (ECONNREFUSED)",
                                              socks5::reply_text(5)));
}

TEST(SessionChain, AnUnreachableFirstHopIsHopOneAtTcpConnect) {
  const Runtime rt = chain(kThree);
  FakeIo io;
  io.proxies["10.0.0.1:1080"].connect_error = Errno{EHOSTUNREACH};
  const SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.reply.error(), Errno{EHOSTUNREACH});
  ASSERT_EQ(r.outcome.attempts().size(), 1u);
  EXPECT_EQ(r.outcome.attempts()[0].proxy, 0u);
  EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::TcpConnect);
  EXPECT_EQ(io.connects.size(), 1u);  // no failover to hop 2
}

TEST(SessionChain, UdpAndBindCannotCrossAChain) {
  const Runtime rt = chain(kThree);
  for (auto cmd : {socks5::Command::UdpAssociate, socks5::Command::Bind}) {
    FakeIo io;
    const SessionRun r = run(rt, io, cmd);
    ASSERT_FALSE(r.reply);
    EXPECT_EQ(r.reply.error(), Errno{EOPNOTSUPP});
    EXPECT_TRUE(io.connects.empty());
    ASSERT_EQ(r.outcome.attempts().size(), 1u);
    EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::Unsupported);
  }
}

TEST(SessionPrepare, SwapsAnIPv4SocketOnlyForAnIPv6FirstProxy) {
  FakeIo io;
  ASSERT_TRUE(prepare_socket(pool("socks5://[fd00::1]:1080"), io, 7, AF_INET));
  EXPECT_EQ(io.replaced_with, std::vector<int>{AF_INET6});
  FakeIo v4;
  ASSERT_TRUE(prepare_socket(pool(kTwo), v4, 7, AF_INET));
  EXPECT_TRUE(v4.replaced_with.empty());
}

// A proxy that answers the pipelined greeting and hangs up (or goes quiet) is
// asked again on a fresh connection, sequentially, and remembered for the process.
TEST(SessionPipeline, AutoFallsBackOnAFreshConnectionAndRemembers) {
  const Runtime rt = pool("socks5://10.0.0.1:1080");
  FakeIo io;
  FakeProxy& p = io.proxies["10.0.0.1:1080"];
  p.later = {kNoAuth, cat({kNoAuth, kReplyOk})};
  EXPECT_EQ(rt.pipeline_memory(0), PipelineMemory::Unknown);
  SessionRun r = run(rt, io);
  ASSERT_TRUE(r.reply) << r.reply.error().code;
  EXPECT_EQ(io.connects.size(), 2u);
  EXPECT_EQ(io.disconnects, 1);
  ASSERT_EQ(p.writes_per_connection.size(), 2u);
  EXPECT_EQ(hex(p.writes_per_connection[0]), hex(cat({kGreeting, request(kDst)})));
  EXPECT_EQ(hex(p.writes_per_connection[1]), hex(cat({kGreeting, request(kDst)})));
  // The program sees no failure: nothing reported but the success.
  EXPECT_TRUE(r.outcome.attempts().empty());
  EXPECT_EQ(g_reports, (std::vector<std::string>{"ok"}));
  EXPECT_EQ(rt.pipeline_memory(0), PipelineMemory::Refuses);

  // The next session goes sequential at once: one connection.
  FakeIo io2;
  io2.proxies["10.0.0.1:1080"].answers = cat({kNoAuth, kReplyOk});
  r = run(rt, io2);
  ASSERT_TRUE(r.reply);
  EXPECT_EQ(io2.connects.size(), 1u);
}

TEST(SessionPipeline, ASuccessIsRememberedAndOnNeverFallsBack) {
  const Runtime rt = pool("socks5://10.0.0.1:1080");
  FakeIo io;
  io.proxies["10.0.0.1:1080"].answers = cat({kNoAuth, kReplyOk});
  ASSERT_TRUE(run(rt, io).reply);
  EXPECT_EQ(rt.pipeline_memory(0), PipelineMemory::Takes);

  const Runtime on =
      runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1:1080"}, {"SOCKSIFY_PIPELINE", "on"}});
  FakeIo io2;
  io2.proxies["10.0.0.1:1080"].answers = kNoAuth;  // then hangs up
  const SessionRun r = run(on, io2);
  EXPECT_FALSE(r.reply);
  EXPECT_EQ(io2.connects.size(), 1u);
  EXPECT_EQ(on.pipeline_memory(0), PipelineMemory::Unknown);
}

TEST(SessionPipeline, OffSendsOneMessagePerRoundTrip) {
  const Runtime rt =
      runtime({{"SOCKSIFY_PROXY", "socks5://u:p@10.0.0.1:1080"}, {"SOCKSIFY_PIPELINE", "off"}});
  FakeIo io;
  io.proxies["10.0.0.1:1080"].answers = cat({kNoAuth, kReplyOk});
  ASSERT_TRUE(run(rt, io).reply);
  // Both methods offered, and the proxy waived auth.
  EXPECT_EQ(hex(io.proxies["10.0.0.1:1080"].written),
            hex(cat({bytes({0x05, 0x02, 0x00, 0x02}), request(kDst)})));
}

TEST(SessionPipeline, AChainRestartsWhenAHopFallsBack) {
  const Runtime rt = chain(kTwo);
  FakeIo io;
  // Hop 2's bytes arrive through hop 1's tunnel: one FakeProxy plays both.
  FakeProxy& p = io.proxies["10.0.0.1:1080"];
  const Endpoint hop2 = ip("10.0.0.2", 1080);
  p.later = {cat({kNoAuth, kReplyOk, kNoAuth}),  // hop 2 drops the pipelined request
             cat({kNoAuth, kReplyOk, kNoAuth, kReplyOk})};
  const SessionRun r = run(rt, io);
  ASSERT_TRUE(r.reply) << r.reply.error().code;
  EXPECT_EQ(io.connects.size(), 2u);
  ASSERT_EQ(p.writes_per_connection.size(), 2u);
  EXPECT_EQ(hex(p.writes_per_connection[1]),
            hex(cat({kGreeting, request(hop2), kGreeting, request(kDst)})));
  EXPECT_EQ(rt.pipeline_memory(0), PipelineMemory::Takes);
  EXPECT_EQ(rt.pipeline_memory(1), PipelineMemory::Refuses);
}

TEST(Upstream, Socks5IsDownOnlyWhenItNeverAnsweredTheGreeting) {
  const Upstream& up = upstream_for(ProxySpec{});
  for (auto cmd :
       {socks5::Command::Connect, socks5::Command::Bind, socks5::Command::UdpAssociate}) {
    EXPECT_TRUE(up.carries(cmd));
  }
  using socks5::Stage;
  for (int e : {ECONNRESET, ETIMEDOUT, EPIPE, ECONNREFUSED}) {
    EXPECT_TRUE(up.is_down({Errno{e}, Stage::Greeting, 0, ""})) << e;
    EXPECT_FALSE(up.is_down({Errno{e}, Stage::Reply, 0, ""})) << e;
  }
  EXPECT_FALSE(up.is_down({Errno{EPROTO}, Stage::Greeting, 0, ""}));
  EXPECT_FALSE(up.is_down({Errno{EACCES}, Stage::Method, 0, ""}));
  EXPECT_FALSE(up.is_down({Errno{ECONNRESET}, Stage::Auth, 0, ""}));
}

// --- HTTP CONNECT upstreams (issue 13) ---

std::string as_text(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
Bytes from_text(std::string_view t) {
  Bytes out(t.size());
  std::memcpy(out.data(), t.data(), t.size());
  return out;
}

TEST(SessionHttp, ConnectSendsTheRequestAndServes) {
  const Runtime rt = pool("http://u:p@10.0.0.1:3128");
  ASSERT_TRUE(rt.configured()) << rt.config_error();
  FakeIo io;
  io.proxies["10.0.0.1:3128"].answers = from_text("HTTP/1.1 200 OK\r\n\r\n");
  const SessionRun r = run(rt, io);
  ASSERT_TRUE(r.reply) << r.reply.error().code;
  EXPECT_EQ(as_text(io.proxies["10.0.0.1:3128"].written),
            "CONNECT 192.0.2.7:80 HTTP/1.1\r\nHost: 192.0.2.7:80\r\n"
            "Proxy-Authorization: Basic dTpw\r\n\r\n");
  EXPECT_TRUE(r.outcome.ok);
}

TEST(SessionHttp, UdpAndBindAreRefusedWithoutConnecting) {
  const Runtime rt = pool("http://10.0.0.1:3128");
  for (const auto cmd : {socks5::Command::UdpAssociate, socks5::Command::Bind}) {
    FakeIo io;
    io.proxies["10.0.0.1:3128"].answers = from_text("HTTP/1.1 200 OK\r\n\r\n");
    const SessionRun r = run(rt, io, cmd);
    ASSERT_FALSE(r.reply);
    EXPECT_EQ(r.reply.error(), Errno{EOPNOTSUPP});
    EXPECT_TRUE(io.connects.empty());  // nothing sent anywhere, least of all direct
    ASSERT_EQ(r.outcome.attempts().size(), 1u);
    EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::Unsupported);
    EXPECT_NE(r.outcome.attempts()[0].reason.find("HTTP proxy"), std::string_view::npos);
  }
}

TEST(SessionHttp, UdpSkipsAnHttpProxyForTheNextThatCarriesIt) {
  const Runtime rt = pool("http://10.0.0.1:3128,socks5://10.0.0.2:1080");
  FakeIo io;
  io.proxies["10.0.0.2:1080"].answers = cat({kNoAuth, kReplyOk});
  const SessionRun r = run(rt, io, socks5::Command::UdpAssociate);
  ASSERT_TRUE(r.reply) << r.reply.error().code;
  EXPECT_EQ(io.connects, (std::vector<std::string>{"10.0.0.2:1080"}));
  EXPECT_EQ(r.outcome.served_by, 1u);
}

TEST(SessionHttp, A407IsFinalAndASilentProxyIsDown) {
  const Runtime rt = pool("http://10.0.0.1:3128,http://10.0.0.2:3128");
  FakeIo io;
  io.proxies["10.0.0.1:3128"].answers = from_text("HTTP/1.1 407 Auth\r\n\r\n");
  io.proxies["10.0.0.2:3128"].answers = from_text("HTTP/1.1 200 OK\r\n\r\n");
  SessionRun r = run(rt, io);
  ASSERT_FALSE(r.reply);
  EXPECT_EQ(r.reply.error(), Errno{EACCES});
  EXPECT_EQ(io.connects.size(), 1u);

  FakeIo io2;
  io2.proxies["10.0.0.1:3128"];  // accepts, reads, hangs up without a byte
  io2.proxies["10.0.0.2:3128"].answers = from_text("HTTP/1.1 200 OK\r\n\r\n");
  r = run(rt, io2);
  ASSERT_TRUE(r.reply);
  EXPECT_EQ(r.outcome.served_by, 1u);
  EXPECT_EQ(r.outcome.attempts()[0].stage, SessionStage::Greeting);
}

}  // namespace
}  // namespace socksify

// --- route groups, pool modes, isolate (issue 13) ------------------------------

namespace socksify {
namespace {

SessionRun run_group(const Runtime& rt, FakeIo& io, std::size_t group) {
  SessionOutcome outcome;
  SessionOptions options;
  options.group = group;
  auto reply = open_session(rt, io, 7, socks5::Command::Connect, kDst, outcome, options);
  return {std::move(reply), outcome};
}

TEST(SessionGroups, ANamedGroupUsesItsOwnProxies) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1:1080; corp socks5://10.0.0.5:1080"}});
  ASSERT_TRUE(rt.configured()) << rt.config_error();
  FakeIo io;
  io.proxies["10.0.0.5:1080"].answers = cat({kNoAuth, kReplyOk});
  auto r = run_group(rt, io, 1);
  ASSERT_TRUE(r.reply) << log::errno_name(r.reply.error().code);
  EXPECT_EQ(io.connects, std::vector<std::string>{"10.0.0.5:1080"});
}

TEST(SessionGroups, RoundRobinSpreadsAndFailsOverFromItsStart) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY",
                         "socks5://10.0.0.1:1080; rr round_robin socks5://10.0.0.7:1080 "
                         "socks5://10.0.0.8:1080"}});
  FakeIo io;
  io.proxies["10.0.0.7:1080"].answers = cat({kNoAuth, kReplyOk});
  io.proxies["10.0.0.8:1080"].answers = cat({kNoAuth, kReplyOk});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(run_group(rt, io, 1).reply);
  EXPECT_EQ(io.proxies["10.0.0.7:1080"].connections, 50u);
  EXPECT_EQ(io.proxies["10.0.0.8:1080"].connections, 50u);
  // One proxy down: every connection still succeeds, through the other.
  io.proxies["10.0.0.8:1080"].connect_error = Errno{ECONNREFUSED};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(run_group(rt, io, 1).reply);
  EXPECT_EQ(io.proxies["10.0.0.7:1080"].connections, 60u);
}

TEST(SessionGroups, RandomUsesBoth) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.7:1080, socks5://10.0.0.8:1080"},
                        {"SOCKSIFY_PROXY_MODE", "random"}});
  FakeIo io;
  io.proxies["10.0.0.7:1080"].answers = cat({kNoAuth, kReplyOk});
  io.proxies["10.0.0.8:1080"].answers = cat({kNoAuth, kReplyOk});
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(run_group(rt, io, 0).reply);
  EXPECT_GT(io.proxies["10.0.0.7:1080"].connections, 50u);
  EXPECT_GT(io.proxies["10.0.0.8:1080"].connections, 50u);
}

TEST(SessionGroups, PrepareLooksAtTheRoutesGroup) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1:1080; v6 socks5://[fd00::1]:1080"}});
  FakeIo v4;
  ASSERT_TRUE(prepare_socket(rt, v4, 7, AF_INET, 0));
  EXPECT_TRUE(v4.replaced_with.empty());
  FakeIo v6;
  ASSERT_TRUE(prepare_socket(rt, v6, 7, AF_INET, 1));
  EXPECT_EQ(v6.replaced_with, std::vector<int>{AF_INET6});
}

TEST(SessionGroups, IsolateLogsInWithThisProcesssOwnName) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5h://10.0.0.1:1080"}, {"SOCKSIFY_ISOLATE", "on"}});
  FakeIo io;
  // Method 0x02 chosen, auth ok, request ok.
  io.proxies["10.0.0.1:1080"].answers = cat({bytes({0x05, 0x02}), bytes({0x01, 0x00}), kReplyOk});
  auto r = run_group(rt, io, 0);
  ASSERT_TRUE(r.reply) << log::errno_name(r.reply.error().code);
  const Bytes& w = io.proxies["10.0.0.1:1080"].written;
  const std::string sent(reinterpret_cast<const char*>(w.data()), w.size());
  EXPECT_NE(sent.find(fmt::format("socksify-{}-", ::getpid())), std::string::npos) << hex(w);
  // The configured spec is untouched (no user), and a proxy with its own user keeps it.
  EXPECT_TRUE(rt.proxies()[0].spec.user.empty());
}

}  // namespace
}  // namespace socksify
