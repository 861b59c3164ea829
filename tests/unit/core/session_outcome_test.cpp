// The library's log lines and --check's reasons, formatted from a
// SessionOutcome: the exact text the integration tests and users grep for.
#include "core/session_outcome.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace socksify {
namespace {

Endpoint ip4(const char* text, std::uint16_t port) {
  std::uint8_t a[4];
  EXPECT_EQ(inet_pton(AF_INET, text, a), 1);
  return Endpoint::ipv4(a, port);
}

ProxySpec spec(const char* host, std::uint16_t port, const char* user = "") {
  ProxySpec p;
  p.host = host;
  p.port = port;
  p.user = user;
  p.password = "s3cret";
  return p;
}

std::string line(const SessionOutcome& o, const SessionAttempt& a) {
  fmt::memory_buffer b;
  format_attempt(b, o, a);
  return fmt::to_string(b);
}

std::string success(const SessionOutcome& o) {
  fmt::memory_buffer b;
  format_success(b, o);
  return fmt::to_string(b);
}

const Endpoint kDst = ip4("10.0.2.1", 80);
const ProxySpec kProxy = spec("10.0.1.1", 1080);

SessionOutcome outcome(socks5::Command cmd, const Endpoint* shown = &kDst, bool chain = false) {
  SessionOutcome o;
  o.cmd = cmd;
  o.dst = &kDst;
  o.shown = shown;
  o.chain = chain;
  return o;
}

TEST(SessionOutcomeFormat, UnreachableProxy) {
  const SessionOutcome o = outcome(socks5::Command::Connect);
  SessionAttempt a{
      0, &kProxy, SessionStage::TcpConnect, Errno{ECONNREFUSED}, 0, "proxy unreachable", true};
  EXPECT_EQ(line(o, a),
            fmt::format("connect to 10.0.2.1:80 via socks5://10.0.1.1:1080 failed: proxy "
                        "unreachable: {} (ECONNREFUSED); trying the next proxy",
                        std::strerror(ECONNREFUSED)));
  EXPECT_EQ(attempt_level(a), LogLevel::Warn);
  a.moved_on = false;
  EXPECT_EQ(line(o, a),
            fmt::format("connect to 10.0.2.1:80 via socks5://10.0.1.1:1080 failed: proxy "
                        "unreachable: {} (ECONNREFUSED)",
                        std::strerror(ECONNREFUSED)));
  EXPECT_EQ(attempt_level(a), LogLevel::Error);
}

TEST(SessionOutcomeFormat, HandshakeFailureNamesTheSubjectAndMasksThePassword) {
  const ProxySpec with_user = spec("10.0.1.1", 1080, "alice");
  const Endpoint udp_dst = ip4("10.0.2.9", 53);
  const SessionOutcome o = outcome(socks5::Command::UdpAssociate, &udp_dst);
  const SessionAttempt a{
      0, &with_user, SessionStage::Auth, Errno{EACCES}, 0, "proxy rejected credentials", false};
  const std::string text = line(o, a);
  EXPECT_EQ(text,
            "UDP to 10.0.2.9:53 via socks5://alice:***@10.0.1.1:1080 failed: proxy rejected "
            "credentials (EACCES)");
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
}

TEST(SessionOutcomeFormat, BindVerb) {
  const SessionOutcome o = outcome(socks5::Command::Bind);
  const SessionAttempt a{
      0, &kProxy, SessionStage::Reply, Errno{EOPNOTSUPP}, 7, "command not supported", false};
  EXPECT_EQ(line(o, a),
            "listen at 10.0.2.1:80 via socks5://10.0.1.1:1080 failed: command not supported "
            "(EOPNOTSUPP)");
}

TEST(SessionOutcomeFormat, ChainHopsCountFromOne) {
  const ProxySpec second = spec("10.0.1.2", 1081);
  const SessionOutcome o = outcome(socks5::Command::Connect, &kDst, /*chain=*/true);
  EXPECT_EQ(
      line(o, {1, &second, SessionStage::Method, Errno{EACCES}, 0, "no acceptable auth method",
               false}),
      "connect to 10.0.2.1:80 via chain hop 2 (socks5://10.0.1.2:1081) failed: no acceptable auth "
      "method (EACCES)");
  // The first hop unreachable reads like a pool's proxy.
  EXPECT_EQ(
      line(o,
           {0, &kProxy, SessionStage::TcpConnect, Errno{ETIMEDOUT}, 0, "proxy unreachable", false}),
      fmt::format("connect to 10.0.2.1:80 via socks5://10.0.1.1:1080 failed: proxy unreachable: "
                  "{} (ETIMEDOUT)",
                  std::strerror(ETIMEDOUT)));
}

TEST(SessionOutcomeFormat, Refusals) {
  const SessionOutcome udp = outcome(socks5::Command::UdpAssociate, &kDst, true);
  EXPECT_EQ(line(udp, {0, &kProxy, SessionStage::Unsupported, Errno{EOPNOTSUPP}, 0,
                       "UDP cannot cross a proxy chain", false}),
            "refusing UDP to 10.0.2.1:80: UDP cannot cross a proxy chain");
  const SessionOutcome bind = outcome(socks5::Command::Bind, &kDst, true);
  EXPECT_EQ(line(bind, {0, &kProxy, SessionStage::Unsupported, Errno{EOPNOTSUPP}, 0,
                        "BIND cannot cross a proxy chain", false}),
            "refusing to listen at 10.0.2.1:80: BIND cannot cross a proxy chain");
  const SessionOutcome any = outcome(socks5::Command::Connect);
  EXPECT_EQ(line(any, {0, nullptr, SessionStage::Configuration, Errno{ENETUNREACH}, 0,
                       "no proxy configured", false}),
            "refusing 10.0.2.1:80: socksify is not configured (no proxy configured)");
}

TEST(SessionOutcomeFormat, Success) {
  SessionOutcome o = outcome(socks5::Command::Connect);
  o.ok = true;
  o.served_spec = &kProxy;
  o.hops = 1;
  EXPECT_EQ(success(o), "10.0.2.1:80 via socks5://10.0.1.1:1080: tunnel open");
  o.cmd = socks5::Command::UdpAssociate;
  EXPECT_EQ(success(o), "10.0.2.1:80 via socks5://10.0.1.1:1080: UDP association open");
  o.cmd = socks5::Command::Bind;
  EXPECT_EQ(success(o), "10.0.2.1:80 via socks5://10.0.1.1:1080: BIND listener open");
  SessionOutcome c = outcome(socks5::Command::Connect, &kDst, true);
  c.ok = true;
  c.hops = 3;
  EXPECT_EQ(success(c), "10.0.2.1:80 via a chain of 3: tunnel open");
}

TEST(SessionOutcomeFormat, StagesMapFromTheHandshake) {
  EXPECT_EQ(session_stage(socks5::Stage::Greeting), SessionStage::Greeting);
  EXPECT_EQ(session_stage(socks5::Stage::Method), SessionStage::Method);
  EXPECT_EQ(session_stage(socks5::Stage::Auth), SessionStage::Auth);
  EXPECT_EQ(session_stage(socks5::Stage::Request), SessionStage::Request);
  EXPECT_EQ(session_stage(socks5::Stage::Reply), SessionStage::Reply);
  EXPECT_EQ(stage_name(SessionStage::TcpConnect), "tcp connect");
}

}  // namespace
}  // namespace socksify
