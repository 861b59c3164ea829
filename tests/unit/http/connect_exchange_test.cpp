#include "http/connect_exchange.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "http/connect_codec.hpp"

namespace socksify::http {
namespace {

// A scripted proxy: serves `incoming` in chunks of at most read_chunk bytes,
// then fails reads with ECONNRESET (the peer closed); records what is written.
// With can_peek, peek_some shows what a read would bring, taking nothing.
class Scripted : public socks5::Stream {
 public:
  explicit Scripted(std::string incoming) : in_(std::move(incoming)) {}
  std::size_t read_chunk = SIZE_MAX;
  std::size_t write_chunk = SIZE_MAX;
  bool fail_writes = false;
  bool can_peek = false;
  std::size_t reads = 0;
  std::size_t peeks = 0;
  std::size_t largest_ask = 0;
  std::string written;

  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    ++reads;
    largest_ask = std::max(largest_ask, buf.size());
    if (pos_ == in_.size()) return Errno{ECONNRESET};
    const std::size_t n = std::min({buf.size(), read_chunk, in_.size() - pos_});
    std::memcpy(buf.data(), in_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  Result<std::size_t> peek_some(std::span<std::byte> buf) override {
    if (!can_peek) return Errno{EOPNOTSUPP};
    ++peeks;
    if (pos_ == in_.size()) return Errno{ECONNRESET};
    const std::size_t n = std::min({buf.size(), read_chunk, in_.size() - pos_});
    std::memcpy(buf.data(), in_.data() + pos_, n);
    return n;
  }
  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    if (fail_writes) return Errno{EPIPE};
    const std::size_t n = std::min(buf.size(), write_chunk);
    written.append(reinterpret_cast<const char*>(buf.data()), n);
    return n;
  }
  std::string unread() const { return in_.substr(pos_); }

 private:
  std::string in_;
  std::size_t pos_ = 0;
};

const std::array<std::uint8_t, 4> kV4{10, 0, 0, 1};
const std::string kTiny =
    "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n";

TEST(HttpConnect, SendsTheRequestAndLeavesTunnelBytesUnread) {
  for (const bool peek : {false, true}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, SIZE_MAX}) {
      Scripted s(kTiny + "SERVER-FIRST");
      s.can_peek = peek;
      s.read_chunk = chunk;
      s.write_chunk = 5;  // the request goes out in pieces
      auto r = connect(s, "u", "p", Endpoint::ipv4(kV4, 22));
      ASSERT_TRUE(r.ok()) << chunk;
      EXPECT_EQ(s.written,
                "CONNECT 10.0.0.1:22 HTTP/1.1\r\nHost: 10.0.0.1:22\r\n"
                "Proxy-Authorization: Basic dTpw\r\n\r\n");
      EXPECT_EQ(s.unread(), "SERVER-FIRST") << chunk << " peek " << peek;
      EXPECT_FALSE(r->bound.is_ip());
    }
  }
}

TEST(HttpConnect, APeekingStreamTakesTheReplyInOnePeekAndOneRead) {
  // The reply and the server's first bytes arrive together: one peek finds
  // the end of the headers, one read takes exactly them (a stream that cannot
  // peek needs a read per possible end: ReadsAreSmall).
  Scripted s(kTiny + "SERVER-FIRST");
  s.can_peek = true;
  ASSERT_TRUE(connect(s, {}, {}, Endpoint::ipv4(kV4, 22)).ok());
  EXPECT_EQ(s.peeks, 1u);
  EXPECT_EQ(s.reads, 1u);
  EXPECT_EQ(s.unread(), "SERVER-FIRST");
}

TEST(HttpConnect, ReadsAreSmall) {
  Scripted s(kTiny);
  ASSERT_TRUE(connect(s, {}, {}, Endpoint::ipv4(kV4, 22)).ok());
  EXPECT_EQ(s.largest_ask, kMinResponse);
  // 16 bytes, then at most 4 per read (never past CRLFCRLF).
  EXPECT_GE(s.reads, 1 + (kTiny.size() - kMinResponse) / 4);
  EXPECT_LE(s.reads, kTiny.size());
}

struct Case {
  std::string reply;
  int error;
  socks5::Stage stage;
};

TEST(HttpConnect, RefusalsAndGarbageMapToErrno) {
  const Case cases[] = {
      {"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n", EACCES,
       socks5::Stage::Reply},
      {"HTTP/1.0 403 Access violation\r\n\r\n<html>", EACCES, socks5::Stage::Reply},
      {"HTTP/1.0 500 Unable to connect\r\n\r\n", ECONNREFUSED, socks5::Stage::Reply},
      {"HTTP/1.1 502 Bad Gateway\r\n\r\n", EHOSTUNREACH, socks5::Stage::Reply},
      {"HTTP/1.1 503 Service Unavailable\r\n\r\n", ECONNREFUSED, socks5::Stage::Reply},
      {"HTTP/1.1 504 Gateway Timeout\r\n\r\n", ETIMEDOUT, socks5::Stage::Reply},
      {"HTTP/1.1 301 Moved\r\n\r\n", EPROTO, socks5::Stage::Reply},
      {"\x05\x00\x00\x01", EPROTO, socks5::Stage::Reply},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(10000, 'a'), EPROTO, socks5::Stage::Reply},
      {"HTTP/1.1 200 OK\r\n", ECONNRESET, socks5::Stage::Reply},  // hung up mid-headers
      {"", ECONNRESET, socks5::Stage::Greeting},  // said nothing: failover may move on
  };
  for (const bool peek : {false, true}) {
    for (const Case& c : cases) {
      Scripted s(c.reply);
      s.can_peek = peek;
      auto r = connect(s, {}, {}, Endpoint::ipv4(kV4, 80));
      ASSERT_FALSE(r.ok()) << c.reply.substr(0, 40) << " peek " << peek;
      EXPECT_EQ(r.error().error.code, c.error) << c.reply.substr(0, 40);
      EXPECT_EQ(r.error().stage, c.stage) << c.reply.substr(0, 40);
      EXPECT_FALSE(r.error().what.empty());
    }
  }
}

TEST(HttpConnect, OversizedReplyReadsNoMoreThanTheLimit) {
  Scripted s("HTTP/1.1 200 OK\r\nX: " + std::string(20000, 'a'));
  auto r = connect(s, {}, {}, Endpoint::ipv4(kV4, 80));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, EPROTO);
  EXPECT_EQ(s.unread().size(), 20000 + 20 - kMaxResponse);
  // Peeking, the limit is seen before anything is taken.
  Scripted p("HTTP/1.1 200 OK\r\nX: " + std::string(20000, 'a'));
  p.can_peek = true;
  auto q = connect(p, {}, {}, Endpoint::ipv4(kV4, 80));
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error().error.code, EPROTO);
  EXPECT_GE(p.unread().size(), 20000 + 20 - kMaxResponse);
}

TEST(HttpConnect, WriteFailureIsGreetingStage) {
  Scripted s(kTiny);
  s.fail_writes = true;
  auto r = connect(s, {}, {}, Endpoint::ipv4(kV4, 80));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, EPIPE);
  EXPECT_EQ(r.error().stage, socks5::Stage::Greeting);
}

TEST(HttpConnect, UnnameableDestinationSendsNothing) {
  Scripted s(kTiny);
  auto r = connect(s, {}, {}, *Endpoint::name("a\r\nb", 80));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().error.code, EINVAL);
  EXPECT_TRUE(s.written.empty());
}

}  // namespace
}  // namespace socksify::http
