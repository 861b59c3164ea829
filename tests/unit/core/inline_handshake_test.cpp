// RecordingStream and ReplayStream (core/inline_handshake.hpp): a SOCKS5
// handshake stopped by the window's end mid-reply, then run again over the
// replay, sends nothing twice and ends as one uninterrupted handshake would.
#include "core/inline_handshake.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "../socks5/wire_bytes.hpp"
#include "config/proxy_spec.hpp"
#include "core/upstream.hpp"

namespace socksify {
// Named: the unit tests build in unity batches, and kNoAuth/kReplyOk are also
// another test file's file-local names.
namespace inline_handshake_test {
namespace {

using socks5::testing::Bytes;
using socks5::testing::bytes;

const Bytes kNoAuth = bytes({0x05, 0x00});
// Succeeded, BND 10.9.9.9:4242.
const Bytes kReplyOk = bytes({0x05, 0x00, 0x00, 0x01, 10, 9, 9, 9, 0x10, 0x92});

Endpoint dst() {
  std::uint8_t a[4];
  inet_pton(AF_INET, "192.0.2.7", a);
  return Endpoint::ipv4(std::span<const std::uint8_t, 4>(a, 4), 80);
}

// Serves `answers` one read at a time (at most `chunk` bytes each), then fails
// every read with `then`; records what is written.
class ScriptedStream final : public socks5::Stream {
 public:
  ScriptedStream(Bytes answers, std::size_t chunk, int then)
      : answers_(std::move(answers)), chunk_(chunk), then_(then) {}
  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    if (pos_ == answers_.size()) return Errno{then_};
    const std::size_t n = std::min({buf.size(), answers_.size() - pos_, chunk_});
    std::memcpy(buf.data(), answers_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    written.insert(written.end(), buf.begin(), buf.end());
    return buf.size();
  }
  Result<std::size_t> peek_some(std::span<std::byte> buf) override {
    if (pos_ == answers_.size()) return Errno{then_};
    const std::size_t n = std::min({buf.size(), answers_.size() - pos_, chunk_});
    std::memcpy(buf.data(), answers_.data() + pos_, n);
    return n;
  }
  Bytes written;

 private:
  Bytes answers_;
  std::size_t pos_ = 0;
  std::size_t chunk_;
  int then_;
};

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// A hand-off in the Talking phase that had read the reply bytes 1, 2, 3.
HandshakeSoFar talking_with_reply_bytes_1_2_3() {
  HandshakeSoFar so_far;
  so_far.phase = HandshakeSoFar::Phase::Talking;
  so_far.read = 3;
  so_far.replies[0] = std::byte{1};
  so_far.replies[1] = std::byte{2};
  so_far.replies[2] = std::byte{3};
  return so_far;
}

Result<socks5::Reply, socks5::Failure> handshake(socks5::Stream& stream) {
  const ProxySpec spec;  // socks5, no login
  return upstream_for(spec).open_pipelined(stream, spec, socks5::Command::Connect, dst(),
                                           socks5::Pipelining::On);
}

TEST(InlineHandshake, WindowEndMidReplyIsReplayedWithoutSendingTwice) {
  // Inline: the method choice and 3 bytes of the reply, then the window closes.
  const Bytes first = concat(kNoAuth, Bytes(kReplyOk.begin(), kReplyOk.begin() + 3));
  ScriptedStream inline_socket(first, 1, ETIMEDOUT);
  HandshakeSoFar so_far;
  const Deadline now = Clock::now();
  RecordingStream recording(inline_socket, so_far, now - std::chrono::milliseconds(1),
                            now + std::chrono::seconds(10));
  auto stopped = handshake(recording);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(so_far.phase, HandshakeSoFar::Phase::Talking);
  EXPECT_EQ(so_far.written, inline_socket.written.size());
  ASSERT_EQ(so_far.read, first.size());
  EXPECT_EQ(0, std::memcmp(so_far.replies.data(), first.data(), first.size()));

  // The worker: the rest of the reply comes from the socket.
  ScriptedStream worker_socket(Bytes(kReplyOk.begin() + 3, kReplyOk.end()), 64, ECONNRESET);
  ReplayStream replay(worker_socket, so_far);
  auto reply = handshake(replay);
  ASSERT_TRUE(reply);
  EXPECT_EQ(fmt::format("{}", reply->bound), "10.9.9.9:4242");
  EXPECT_TRUE(worker_socket.written.empty()) << "the handshake was sent again";
}

TEST(InlineHandshake, SessionDeadlineIsNotAHandOff) {
  // The session's own deadline (not the window) ended the wait: a failure.
  ScriptedStream socket(kNoAuth, 64, ETIMEDOUT);
  HandshakeSoFar so_far;
  const Deadline now = Clock::now();
  RecordingStream recording(socket, so_far, now + std::chrono::seconds(10), now);
  EXPECT_FALSE(handshake(recording));
  EXPECT_FALSE(so_far.handed_off());
}

TEST(InlineHandshake, OtherFailuresAreNotHandOffs) {
  ScriptedStream socket(kNoAuth, 64, ECONNRESET);
  HandshakeSoFar so_far;
  const Deadline now = Clock::now();
  RecordingStream recording(socket, so_far, now - std::chrono::milliseconds(1),
                            now + std::chrono::seconds(10));
  EXPECT_FALSE(handshake(recording));
  EXPECT_FALSE(so_far.handed_off());
}

TEST(InlineHandshake, MoreThanTheRecordHoldsIsNeverHandedOff) {
  HandshakeSoFar so_far;
  ScriptedStream socket(Bytes(HandshakeSoFar::kMaxReplay + 1, std::byte{0}), 1 << 20, ETIMEDOUT);
  const Deadline now = Clock::now();
  RecordingStream recording(socket, so_far, now - std::chrono::milliseconds(1),
                            now + std::chrono::seconds(10));
  std::array<std::byte, HandshakeSoFar::kMaxReplay + 1> buf;
  ASSERT_TRUE(recording.read_some(buf));
  EXPECT_TRUE(so_far.overflow);
  EXPECT_FALSE(recording.read_some(buf));  // ETIMEDOUT at the window
  EXPECT_FALSE(so_far.handed_off());
}

TEST(InlineHandshake, ReplayGivesBackShortReadsInOrder) {
  HandshakeSoFar so_far = talking_with_reply_bytes_1_2_3();
  so_far.written = 5;
  ScriptedStream socket(bytes({4}), 64, ECONNRESET);
  ReplayStream replay(socket, so_far);
  const Bytes out = bytes({9, 9, 9, 9, 9, 9, 9});
  auto w = replay.write_some(std::span(out));  // 5 taken as sent, then the socket's
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, 5u);
  EXPECT_TRUE(socket.written.empty());
  ASSERT_TRUE(replay.write_some(std::span(out).subspan(5)));
  EXPECT_EQ(socket.written.size(), 2u);
  std::array<std::byte, 2> buf;
  auto r = replay.read_some(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2u);
  EXPECT_EQ(buf[1], std::byte{2});
  r = replay.read_some(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1u);
  EXPECT_EQ(buf[0], std::byte{3});
  r = replay.read_some(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(buf[0], std::byte{4});
}

TEST(InlineHandshake, ReplayPeeksShowTheRecordFirstAndTakeNothing) {
  HandshakeSoFar so_far = talking_with_reply_bytes_1_2_3();
  ScriptedStream socket(bytes({4, 5}), 64, ECONNRESET);
  ReplayStream replay(socket, so_far);
  std::array<std::byte, 8> buf;
  const auto got = [&](const Result<std::size_t>& n) {
    return n ? Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n)) : Bytes{};
  };
  // The record's bytes first (the socket's wait their turn); a peek takes nothing.
  EXPECT_EQ(got(replay.peek_some(buf)), bytes({1, 2, 3}));
  EXPECT_EQ(got(replay.read_some(std::span(buf).first(2))), bytes({1, 2}));
  EXPECT_EQ(got(replay.peek_some(buf)), bytes({3}));
  EXPECT_EQ(got(replay.read_some(std::span(buf).first(1))), bytes({3}));
  // The record is done: the socket's.
  EXPECT_EQ(got(replay.peek_some(buf)), bytes({4, 5}));
  EXPECT_EQ(got(replay.read_some(buf)), bytes({4, 5}));
}

}  // namespace
}  // namespace inline_handshake_test
}  // namespace socksify
