#include "socks4/handshake.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "../socks5/wire_bytes.hpp"

namespace socksify::socks4 {
namespace {

using socks5::Stage;
using socks5::testing::Bytes;
using socks5::testing::bytes;
using socks5::testing::cat;
using socks5::testing::hex;
using socks5::testing::text;

// A scripted proxy: serves `incoming` at most `read_chunk` bytes per read, then
// fails reads with ECONNRESET; records what the client writes.
class ScriptedStream : public socks5::Stream {
 public:
  explicit ScriptedStream(Bytes incoming) : incoming_(std::move(incoming)) {}
  std::size_t read_chunk = SIZE_MAX;
  std::size_t write_chunk = SIZE_MAX;
  bool fail_writes = false;

  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    if (pos_ == incoming_.size()) return Errno{ECONNRESET};
    const std::size_t n = std::min({buf.size(), read_chunk, incoming_.size() - pos_});
    std::memcpy(buf.data(), incoming_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    if (fail_writes) return Errno{EPIPE};
    const std::size_t n = std::min(buf.size(), write_chunk);
    written.insert(written.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }
  std::size_t unread() const { return incoming_.size() - pos_; }
  Bytes written;

 private:
  Bytes incoming_;
  std::size_t pos_ = 0;
};

Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  const std::array<std::uint8_t, 4> ip{a, b, c, d};
  return Endpoint::ipv4(ip, port);
}

TEST(Socks4Handshake, GrantedSplitReadsStopAtTheReply) {
  ScriptedStream s(cat({bytes({0, 90, 0, 0, 0, 0, 0, 0}), text("HTTP/1.0 200")}));
  s.read_chunk = 3;
  s.write_chunk = 2;
  auto r = handshake(s, "alice", Command::Connect, v4(10, 0, 0, 2, 80), false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->code, 0);
  EXPECT_EQ(hex(s.written),
            hex(cat({bytes({4, 1, 0, 80, 10, 0, 0, 2}), text("alice"), bytes({0})})));
  EXPECT_EQ(s.unread(), 12u);  // the application's bytes stay in the socket
}

TEST(Socks4Handshake, V4MappedDestinationIsSentAsIPv4) {
  const std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  ScriptedStream s(bytes({0, 90, 0, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(handshake(s, "", Command::Connect, Endpoint::ipv6(mapped, 80), false).ok());
  EXPECT_EQ(hex(s.written), hex(bytes({4, 1, 0, 80, 10, 0, 0, 2, 0})));
}

TEST(Socks4Handshake, Socks4aSendsTheName) {
  ScriptedStream s(bytes({0, 90, 0, 0, 0, 0, 0, 0}));
  const auto name = Endpoint::name("target.test", 80);
  ASSERT_TRUE(handshake(s, "", Command::Connect, *name, true).ok());
  EXPECT_EQ(hex(s.written),
            hex(cat({bytes({4, 1, 0, 80, 0, 0, 0, 1, 0}), text("target.test"), bytes({0})})));
}

TEST(Socks4Handshake, RefusesNamesAndIPv6BeforeSending) {
  ScriptedStream s(bytes({0, 90, 0, 0, 0, 0, 0, 0}));
  auto r = handshake(s, "", Command::Connect, *Endpoint::name("target.test", 80), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, EHOSTUNREACH);
  const std::array<std::uint8_t, 16> six{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  r = handshake(s, "", Command::Connect, Endpoint::ipv6(six, 80), true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, EAFNOSUPPORT);
  EXPECT_EQ(r.error().stage, Stage::Request);
  EXPECT_EQ(r.error().what, "SOCKS4 cannot carry an IPv6 destination");
  EXPECT_TRUE(s.written.empty());
}

TEST(Socks4Handshake, EveryRefusalCodeGivesItsErrno) {
  const std::array<std::pair<int, int>, 3> cases{{{91, ECONNREFUSED}, {92, EACCES}, {93, EACCES}}};
  for (const auto& [cd, err] : cases) {
    ScriptedStream s(bytes({0, cd, 0, 0, 0, 0, 0, 0}));
    auto r = handshake(s, "", Command::Connect, v4(10, 0, 0, 2, 80), false);
    ASSERT_FALSE(r.ok()) << cd;
    EXPECT_EQ(r.error().error.code, err) << cd;
    EXPECT_EQ(r.error().stage, Stage::Reply);
    EXPECT_EQ(r.error().reply, cd);
  }
}

TEST(Socks4Handshake, MalformedReplyIsEproto) {
  ScriptedStream s(bytes({0x05, 0x00, 0, 0, 0, 0, 0, 0}));  // a SOCKS5 server's answer
  auto r = handshake(s, "", Command::Connect, v4(10, 0, 0, 2, 80), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, EPROTO);
  EXPECT_EQ(r.error().stage, Stage::Reply);
}

TEST(Socks4Handshake, SilenceIsGreetingStageAndATruncatedReplyIsNot) {
  ScriptedStream quiet(Bytes{});
  auto r = handshake(quiet, "", Command::Connect, v4(10, 0, 0, 2, 80), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, ECONNRESET);
  EXPECT_EQ(r.error().stage, Stage::Greeting);

  ScriptedStream cut(bytes({0, 90, 0}));
  r = handshake(cut, "", Command::Connect, v4(10, 0, 0, 2, 80), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, ECONNRESET);
  EXPECT_EQ(r.error().stage, Stage::Reply);

  ScriptedStream broken(Bytes{});
  broken.fail_writes = true;
  r = handshake(broken, "", Command::Connect, v4(10, 0, 0, 2, 80), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, EPIPE);
  EXPECT_EQ(r.error().stage, Stage::Greeting);
}

}  // namespace
}  // namespace socksify::socks4
