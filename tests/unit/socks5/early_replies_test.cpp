// EarlyReplies: the proxy's answers to a pipelined handshake read after the
// connection was handed to the program (early data), one message at a time,
// never a byte past the CONNECT reply.
#include "socks5/early_replies.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "wire_bytes.hpp"

namespace socksify::socks5 {
namespace {

using testing::Bytes;
using testing::bytes;
using testing::cat;
using testing::hex;

const Bytes kNoAuth = bytes({0x05, 0x00});
const Bytes kUserPass = bytes({0x05, 0x02});
const Bytes kAuthOk = bytes({0x01, 0x00});
const Bytes kReplyOk = bytes({0x05, 0x00, 0x00, 0x01, 10, 9, 9, 9, 0x10, 0x92});

// Feeds `wire` as a reader would: never more than wanted() at a time, in reads
// of at most `chunk`. Returns how many bytes were taken.
std::size_t pump(EarlyReplies& r, const Bytes& wire, std::size_t chunk) {
  std::size_t pos = 0;
  while (r.state() == EarlyReplies::State::Reading && pos < wire.size()) {
    const std::size_t n = std::min({r.wanted(), chunk, wire.size() - pos});
    EXPECT_GT(n, 0u);
    r.feed(std::span<const std::byte>(wire).subspan(pos, n));
    pos += n;
  }
  return pos;
}

Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  const std::uint8_t addr[4] = {a, b, c, d};
  return Endpoint::ipv4(std::span<const std::uint8_t, 4>(addr, 4), port);
}

TEST(EarlyReplies, NoAuthStopsAtTheEndOfTheReplyWhateverFollows) {
  const Bytes data = testing::text("HTTP/1.1 200 OK\r\n");
  for (std::size_t chunk : {1u, 3u, 64u}) {
    EarlyReplies r(false);
    const Bytes wire = cat({kNoAuth, kReplyOk, data});
    EXPECT_EQ(pump(r, wire, chunk), kNoAuth.size() + kReplyOk.size()) << chunk;
    ASSERT_EQ(r.state(), EarlyReplies::State::Done) << chunk;
    EXPECT_EQ(r.wanted(), 0u);
    EXPECT_EQ(r.reply().bound, v4(10, 9, 9, 9, 4242));
  }
}

TEST(EarlyReplies, WithALoginReadsTheAuthReplyBetween) {
  EarlyReplies r(true);
  EXPECT_EQ(pump(r, cat({kUserPass, kAuthOk, kReplyOk}), 64), 14u);
  EXPECT_EQ(r.state(), EarlyReplies::State::Done);
}

TEST(EarlyReplies, ARefusedConnectGivesItsErrno) {
  EarlyReplies r(false);
  pump(r, cat({kNoAuth, bytes({0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0})}), 64);
  ASSERT_EQ(r.state(), EarlyReplies::State::Failed);
  EXPECT_EQ(r.failure().error, Errno{ECONNREFUSED});
  EXPECT_EQ(r.failure().stage, Stage::Reply);
  EXPECT_EQ(r.failure().reply, 5);
}

TEST(EarlyReplies, RejectedLoginAndRefusedMethodAreEacces) {
  EarlyReplies login(true);
  pump(login, cat({kUserPass, bytes({0x01, 0x01})}), 64);
  ASSERT_EQ(login.state(), EarlyReplies::State::Failed);
  EXPECT_EQ(login.failure().error, Errno{EACCES});
  EarlyReplies method(false);
  pump(method, bytes({0x05, 0xFF}), 64);
  ASSERT_EQ(method.state(), EarlyReplies::State::Failed);
  EXPECT_EQ(method.failure().error, Errno{EACCES});
}

TEST(EarlyReplies, AMethodNotOfferedOrGarbageIsEproto) {
  EarlyReplies other(false);
  pump(other, kUserPass, 64);
  ASSERT_EQ(other.state(), EarlyReplies::State::Failed);
  EXPECT_EQ(other.failure().error, Errno{EPROTO});
  EarlyReplies garbage(false);
  pump(garbage, cat({kNoAuth, testing::text("HTTP/1.1 400")}), 64);
  ASSERT_EQ(garbage.state(), EarlyReplies::State::Failed);
  EXPECT_EQ(garbage.failure().error, Errno{EPROTO});
}

TEST(EarlyReplies, AHangUpMidwayIsEconnreset) {
  EarlyReplies r(false);
  pump(r, cat({kNoAuth, bytes({0x05, 0x00})}), 64);
  EXPECT_EQ(r.state(), EarlyReplies::State::Reading);
  EXPECT_EQ(r.closed(), EarlyReplies::State::Failed);
  EXPECT_EQ(r.failure().error, Errno{ECONNRESET});
}

TEST(EarlyReplies, FeedingMoreThanWantedIsRefused) {
  EarlyReplies r(false);
  const Bytes three = bytes({0x05, 0x00, 0x05});
  EXPECT_EQ(r.feed(three), EarlyReplies::State::Failed);
}

TEST(EncodePipelined, GreetingLoginAndRequestBackToBack) {
  std::array<std::byte, kMaxPipelined> out{};
  auto n = encode_pipelined(out, {"u", "pw"}, Command::Connect, v4(192, 0, 2, 7, 80));
  ASSERT_TRUE(n);
  EXPECT_EQ(hex(std::span<const std::byte>(out).first(*n)),
            hex(cat({bytes({0x05, 0x01, 0x02}), bytes({0x01, 1, 'u', 2, 'p', 'w'}),
                     bytes({0x05, 0x01, 0x00, 0x01, 192, 0, 2, 7, 0, 80})})));
  auto none = encode_pipelined(out, {}, Command::Connect, v4(192, 0, 2, 7, 80));
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 13u);
  EXPECT_FALSE(encode_pipelined(out, {}, Command::Connect, Endpoint{}));
}

}  // namespace
}  // namespace socksify::socks5
