#include "socks5/handshake.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "wire_bytes.hpp"

namespace socksify::socks5 {
namespace {

using testing::Bytes;
using testing::bytes;
using testing::cat;
using testing::hex;
using testing::text;

// Plays a scripted server: serves `incoming` in chunks of at most `read_chunk`
// bytes, then fails every read with `end_error` (ECONNRESET is how a Stream
// reports the peer closing). Records every byte the client writes, accepting at
// most `write_chunk` per call, and can fail writes once `write_fail_after`
// bytes have been accepted.
class ScriptedStream : public Stream {
 public:
  explicit ScriptedStream(Bytes incoming) : incoming_(std::move(incoming)) {}

  std::size_t read_chunk = SIZE_MAX;
  std::size_t write_chunk = SIZE_MAX;
  Errno end_error{ECONNRESET};
  std::optional<std::size_t> write_fail_after;
  Errno write_error{EPIPE};

  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    ++reads;
    // A server that went quiet: the wait ends at the probe's bound (or the deadline).
    if (stall_at && pos_ >= *stall_at) {
      ++stalled_reads;
      return Errno{ETIMEDOUT};
    }
    if (pos_ == incoming_.size()) return end_error;
    const std::size_t n = std::min({buf.size(), read_chunk, incoming_.size() - pos_});
    std::memcpy(buf.data(), incoming_.data() + pos_, n);
    pos_ += n;
    return n;
  }

  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    if (write_fail_after && written.size() >= *write_fail_after) return write_error;
    std::size_t n = std::min(buf.size(), write_chunk);
    if (write_fail_after) n = std::min(n, *write_fail_after - written.size());
    written.insert(written.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    writes.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }

  void limit_waits(std::chrono::milliseconds limit) override { limits.push_back(limit.count()); }

  // What the server sent that the client has not read.
  Bytes unread() const {
    return Bytes(incoming_.begin() + static_cast<std::ptrdiff_t>(pos_), incoming_.end());
  }

  Bytes written;
  std::vector<Bytes> writes;            // one entry per write_some call: the write boundaries
  std::vector<long> limits;             // limit_waits calls, in ms (0: lifted)
  std::optional<std::size_t> stall_at;  // reads from this incoming offset on time out
  int reads = 0;
  int stalled_reads = 0;

 private:
  Bytes incoming_;
  std::size_t pos_ = 0;
};

Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  const std::array<std::uint8_t, 4> addr{a, b, c, d};
  return Endpoint::ipv4(addr, port);
}

const Endpoint kTarget = v4(192, 0, 2, 7, 443);
const Bytes kTargetRequest = bytes({0x05, 0x01, 0x00, 0x01, 192, 0, 2, 7, 0x01, 0xbb});

const Bytes kGreetingNoAuth = bytes({0x05, 0x01, 0x00});
const Bytes kGreetingWithAuth = bytes({0x05, 0x02, 0x00, 0x02});
const Bytes kAliceAuth = cat({bytes({0x01, 5}), text("alice"), bytes({6}), text("s3cret")});
const Credentials kAlice{"alice", "s3cret"};

const Bytes kChooseNoAuth = bytes({0x05, 0x00});
const Bytes kChoosePassword = bytes({0x05, 0x02});
const Bytes kAuthOk = bytes({0x01, 0x00});
// Success, bound to 10.0.0.1:4000.
const Bytes kReplyOk = bytes({0x05, 0x00, 0x00, 0x01, 10, 0, 0, 1, 0x0f, 0xa0});
const Endpoint kBound = v4(10, 0, 0, 1, 4000);

const Bytes kAppBytes = text("HTTP/1.1 200 OK\r\n\r\n");

TEST(Socks5Handshake, ConnectWithoutAuthSendsGreetingThenRequestAndReturnsReply) {
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
  const auto r = handshake(s, {}, Command::Connect, kTarget);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(r->code, 0);
  EXPECT_EQ(r->bound, kBound);
  EXPECT_EQ(hex(s.written), hex(cat({kGreetingNoAuth, kTargetRequest})));
  EXPECT_TRUE(s.unread().empty());
}

TEST(Socks5Handshake, ConnectWithPasswordSendsCredentialsBetweenGreetingAndRequest) {
  ScriptedStream s(cat({kChoosePassword, kAuthOk, kReplyOk}));
  const auto r = handshake(s, kAlice, Command::Connect, kTarget);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(r->bound, kBound);
  EXPECT_EQ(hex(s.written), hex(cat({kGreetingWithAuth, kAliceAuth, kTargetRequest})));
}

TEST(Socks5Handshake, ServerMayWaiveAuthEvenWhenWeOfferIt) {
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
  const auto r = handshake(s, kAlice, Command::Connect, kTarget);
  ASSERT_TRUE(r) << r.error().what;
  // No credentials on the wire when the server did not ask for them.
  EXPECT_EQ(hex(s.written), hex(cat({kGreetingWithAuth, kTargetRequest})));
}

TEST(Socks5Handshake, PasswordWithoutUserOffersNoAuthOnly) {
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
  const auto r = handshake(s, {"", "secret"}, Command::Connect, kTarget);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(hex(s.written), hex(cat({kGreetingNoAuth, kTargetRequest})));
}

TEST(Socks5Handshake, SendsNameForRemoteResolution) {
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
  const auto r = handshake(s, {}, Command::Connect, *Endpoint::name("db.internal", 5432));
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(hex(s.written), hex(cat({kGreetingNoAuth, bytes({0x05, 0x01, 0x00, 0x03, 11}),
                                     text("db.internal"), bytes({0x15, 0x38})})));
}

TEST(Socks5Handshake, SendsBindAndUdpAssociateCommands) {
  for (auto [cmd, byte] : {std::pair{Command::Bind, 0x02}, {Command::UdpAssociate, 0x03}}) {
    ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
    const auto r = handshake(s, {}, cmd, v4(0, 0, 0, 0, 0));
    ASSERT_TRUE(r) << r.error().what;
    ASSERT_EQ(s.written.size(), kGreetingNoAuth.size() + 10);
    EXPECT_EQ(s.written[kGreetingNoAuth.size() + 1], std::byte(byte));
  }
}

// Replies of every ATYP, each followed by the application's first bytes, served
// whole and one byte at a time: the handshake must stop exactly at the reply.
TEST(Socks5Handshake, NeverReadsPastTheReplyForAnyAddressTypeOrChunking) {
  const Bytes v6_reply = bytes({0x05, 0x00, 0x00, 0x04, 0x20, 0x01, 0x0d, 0xb8, 0, 0,    0,
                                0,    0,    0,    0,    0,    0,    0,    0,    1, 0x00, 0x50});
  const Bytes name_reply =
      cat({bytes({0x05, 0x00, 0x00, 0x03, 10}), text("relay.test"), bytes({0x04, 0x38})});
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 1;
  const std::pair<Bytes, Endpoint> cases[] = {
      {kReplyOk, kBound},
      {v6_reply, Endpoint::ipv6(v6, 80)},
      {name_reply, *Endpoint::name("relay.test", 1080)},
  };
  for (const auto& [reply, bound] : cases) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, SIZE_MAX}) {
      ScriptedStream s(cat({kChoosePassword, kAuthOk, reply, kAppBytes}));
      s.read_chunk = chunk;
      const auto r = handshake(s, kAlice, Command::Connect, kTarget);
      ASSERT_TRUE(r) << r.error().what;
      EXPECT_EQ(r->bound, bound);
      EXPECT_EQ(hex(s.unread()), hex(kAppBytes)) << "chunk " << chunk;
    }
  }
}

TEST(Socks5Handshake, CompletesWhenServerBytesArriveOneAtATime) {
  const Bytes script = cat({kChoosePassword, kAuthOk, kReplyOk});
  ScriptedStream s(script);
  s.read_chunk = 1;
  const auto r = handshake(s, kAlice, Command::Connect, kTarget);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(r->bound, kBound);
  EXPECT_EQ(s.reads, static_cast<int>(script.size()));
}

TEST(Socks5Handshake, ShortWritesStillSendEveryByteInOrder) {
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}}) {
    ScriptedStream s(cat({kChoosePassword, kAuthOk, kReplyOk}));
    s.write_chunk = chunk;
    const auto r = handshake(s, kAlice, Command::Connect, kTarget);
    ASSERT_TRUE(r) << r.error().what;
    EXPECT_EQ(hex(s.written), hex(cat({kGreetingWithAuth, kAliceAuth, kTargetRequest})));
  }
}

TEST(Socks5Handshake, RejectedCredentialsFailWithEaccesAndSendNoRequest) {
  for (int status : {0x01, 0xFF}) {
    ScriptedStream s(cat({kChoosePassword, bytes({0x01, status}), kReplyOk}));
    const auto r = handshake(s, kAlice, Command::Connect, kTarget);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error, Errno{EACCES});
    EXPECT_EQ(r.error().stage, Stage::Auth);
    EXPECT_EQ(r.error().reply, 0);
    EXPECT_EQ(hex(s.written), hex(cat({kGreetingWithAuth, kAliceAuth})));
  }
}

TEST(Socks5Handshake, NoAcceptableMethodFailsWithEacces) {
  for (const Credentials& creds : {Credentials{}, kAlice}) {
    ScriptedStream s(bytes({0x05, 0xFF}));
    const auto r = handshake(s, creds, Command::Connect, kTarget);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error, Errno{EACCES});
    EXPECT_EQ(r.error().stage, Stage::Method);
    EXPECT_EQ(r.error().what, "no acceptable auth method");
    // RFC 1928 §3: after X'FF' the client must close, so nothing more is sent.
    EXPECT_EQ(s.written.size(), creds.user.empty() ? 3u : 4u);
  }
}

TEST(Socks5Handshake, MethodWeDidNotOfferFailsWithEproto) {
  struct Case {
    Credentials creds;
    int method;
  };
  // Password without credentials, GSSAPI, a private method, an IANA one.
  for (const auto& c : {Case{{}, 0x02}, Case{kAlice, 0x01}, Case{{}, 0x01}, Case{kAlice, 0x80},
                        Case{kAlice, 0x03}}) {
    ScriptedStream s(cat({bytes({0x05, c.method}), kAuthOk, kReplyOk}));
    const auto r = handshake(s, c.creds, Command::Connect, kTarget);
    ASSERT_FALSE(r) << c.method;
    EXPECT_EQ(r.error().error, Errno{EPROTO}) << c.method;
    EXPECT_EQ(r.error().stage, Stage::Method);
    EXPECT_EQ(s.written.size(), c.creds.user.empty() ? 3u : 4u);
  }
}

class Socks5HandshakeRefusal : public ::testing::TestWithParam<int> {};

TEST_P(Socks5HandshakeRefusal, ReplyCodeBecomesItsErrnoWithCodeReported) {
  const int rep = GetParam();
  ScriptedStream s(
      cat({kChooseNoAuth, bytes({0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0}), kAppBytes}));
  const auto r = handshake(s, {}, Command::Connect, kTarget);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, Errno{reply_errno(static_cast<std::uint8_t>(rep))});
  EXPECT_NE(r.error().error.code, 0);
  EXPECT_EQ(r.error().stage, Stage::Reply);
  EXPECT_EQ(r.error().reply, rep);
  EXPECT_EQ(r.error().what, reply_text(static_cast<std::uint8_t>(rep)));
  EXPECT_EQ(hex(s.unread()), hex(kAppBytes));
}

INSTANTIATE_TEST_SUITE_P(AssignedAndUnassigned, Socks5HandshakeRefusal,
                         ::testing::Values(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                           0xFF));

TEST(Socks5Handshake, RefusalErrnosAreTheDocumentedOnes) {
  const std::pair<int, int> table[] = {
      {0x01, ECONNABORTED}, {0x02, EACCES},       {0x03, ENETUNREACH},
      {0x04, EHOSTUNREACH}, {0x05, ECONNREFUSED}, {0x06, ETIMEDOUT},
      {0x07, EOPNOTSUPP},   {0x08, EAFNOSUPPORT}, {0x09, ECONNABORTED}};
  for (auto [rep, err] : table) {
    ScriptedStream s(cat({kChooseNoAuth, bytes({0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0})}));
    const auto r = handshake(s, {}, Command::Connect, kTarget);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error, Errno{err}) << rep;
  }
}

TEST(Socks5Handshake, ServerClosingAtAnyPointFailsWithEconnreset) {
  const Bytes script = cat({kChoosePassword, kAuthOk, kReplyOk});
  for (std::size_t k = 0; k < script.size(); ++k) {
    ScriptedStream s(Bytes(script.begin(), script.begin() + static_cast<std::ptrdiff_t>(k)));
    s.read_chunk = 1;
    const auto r = handshake(s, kAlice, Command::Connect, kTarget);
    ASSERT_FALSE(r) << k;
    EXPECT_EQ(r.error().error, Errno{ECONNRESET}) << k;
    const Stage expected = k < 2 ? Stage::Greeting : k < 4 ? Stage::Auth : Stage::Reply;
    EXPECT_EQ(r.error().stage, expected) << k;
    EXPECT_EQ(r.error().reply, 0);
  }
}

TEST(Socks5Handshake, TimeoutPassesThroughAtEveryStage) {
  const Bytes script = cat({kChoosePassword, kAuthOk, kReplyOk});
  for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{4},
                        std::size_t{8}, script.size() - 1}) {
    ScriptedStream s(Bytes(script.begin(), script.begin() + static_cast<std::ptrdiff_t>(k)));
    s.end_error = Errno{ETIMEDOUT};
    const auto r = handshake(s, kAlice, Command::Connect, kTarget);
    ASSERT_FALSE(r) << k;
    EXPECT_EQ(r.error().error, Errno{ETIMEDOUT}) << k;
  }
}

TEST(Socks5Handshake, WriteErrorsPassThroughWithTheirStage) {
  // Fail after the greeting, half of the credentials, and half of the request.
  const std::pair<std::size_t, Stage> cases[] = {{0, Stage::Greeting},
                                                 {2, Stage::Greeting},
                                                 {4, Stage::Auth},
                                                 {10, Stage::Auth},
                                                 {4 + kAliceAuth.size(), Stage::Request},
                                                 {4 + kAliceAuth.size() + 5, Stage::Request}};
  for (auto [after, stage] : cases) {
    ScriptedStream s(cat({kChoosePassword, kAuthOk, kReplyOk}));
    s.write_fail_after = after;
    const auto r = handshake(s, kAlice, Command::Connect, kTarget);
    ASSERT_FALSE(r) << after;
    EXPECT_EQ(r.error().error, Errno{EPIPE}) << after;
    EXPECT_EQ(r.error().stage, stage) << after;
    EXPECT_EQ(s.written.size(), after);
  }
}

TEST(Socks5Handshake, MalformedServerBytesFailWithEprotoWithoutReadingOn) {
  struct Case {
    const char* name;
    Bytes script;
    Stage stage;
  };
  const Case cases[] = {
      {"method choice version 4", bytes({0x04}), Stage::Method},
      {"auth reply version 5", cat({kChoosePassword, bytes({0x05})}), Stage::Auth},
      {"reply version 4", cat({kChoosePassword, kAuthOk, bytes({0x04})}), Stage::Reply},
      {"reply reserved byte set", cat({kChoosePassword, kAuthOk, bytes({0x05, 0x00, 0x01})}),
       Stage::Reply},
      {"reply unknown ATYP", cat({kChoosePassword, kAuthOk, bytes({0x05, 0x00, 0x00, 0x02})}),
       Stage::Reply},
      {"reply empty name", cat({kChoosePassword, kAuthOk, bytes({0x05, 0x00, 0x00, 0x03, 0x00})}),
       Stage::Reply},
  };
  for (const auto& c : cases) {
    // Each script ends at the offending byte; what follows must stay unread,
    // because the decoders reject a bad byte as soon as it arrives.
    ScriptedStream s(cat({c.script, kAppBytes}));
    s.read_chunk = 1;
    const auto r = handshake(s, kAlice, Command::Connect, kTarget);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().error, Errno{EPROTO}) << c.name;
    EXPECT_EQ(r.error().stage, c.stage) << c.name;
    EXPECT_EQ(hex(s.unread()), hex(kAppBytes)) << c.name;
  }
}

TEST(Socks5Handshake, InvalidCredentialsFailBeforeAnyByteIsSent) {
  const std::string long_field(256, 'x');
  for (const Credentials& creds : {Credentials{"alice", ""}, Credentials{long_field, "pw"},
                                   Credentials{"alice", long_field}}) {
    ScriptedStream s(cat({kChoosePassword, kAuthOk, kReplyOk}));
    const auto r = handshake(s, creds, Command::Connect, kTarget);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error, Errno{EINVAL});
    EXPECT_EQ(r.error().stage, Stage::Auth);
    EXPECT_TRUE(s.written.empty());
    EXPECT_EQ(s.reads, 0);
  }
}

TEST(Socks5Handshake, EmptyDestinationFailsBeforeAnyByteIsSent) {
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
  const auto r = handshake(s, {}, Command::Connect, Endpoint{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, Errno{EINVAL});
  EXPECT_EQ(r.error().stage, Stage::Request);
  EXPECT_TRUE(s.written.empty());
}

// A Stream that breaks its contract (0 bytes, or more than asked) must not
// hang the handshake or let it overrun its buffer.
class MisbehavingStream : public Stream {
 public:
  std::size_t read_result = 0;
  std::size_t write_result = 0;
  Result<std::size_t> read_some(std::span<std::byte>) override { return read_result; }
  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    return write_result == SIZE_MAX ? buf.size() : write_result;
  }
};

TEST(Socks5Handshake, ZeroByteWriteFailsInsteadOfSpinning) {
  MisbehavingStream s;
  const auto r = handshake(s, {}, Command::Connect, kTarget);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, Errno{EIO});
  EXPECT_EQ(r.error().stage, Stage::Greeting);
}

TEST(Socks5Handshake, ZeroByteReadCountsAsPeerClosing) {
  MisbehavingStream s;
  s.write_result = SIZE_MAX;
  const auto r = handshake(s, {}, Command::Connect, kTarget);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, Errno{ECONNRESET});
}

TEST(Socks5Handshake, OversizedReadCountFailsInsteadOfOverrunning) {
  MisbehavingStream s;
  s.write_result = SIZE_MAX;
  s.read_result = 1000;
  const auto r = handshake(s, {}, Command::Connect, kTarget);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, Errno{EIO});
}

// --- pipelining (issue 12) ---

const Bytes kGreetingOnlyNoAuth = bytes({0x05, 0x01, 0x00});
const Bytes kGreetingOnlyPassword = bytes({0x05, 0x01, 0x02});

TEST(Socks5Pipelined, NoAuthSendsGreetingAndRequestInOneWriteThenReadsRepliesInOrder) {
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk, kAppBytes}));
  const auto r = handshake(s, {}, Command::Connect, kTarget, Pipelining::On);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(r->bound, kBound);
  ASSERT_EQ(s.writes.size(), 1u);
  EXPECT_EQ(hex(s.writes[0]), hex(cat({kGreetingOnlyNoAuth, kTargetRequest})));
  // Exactly the two replies were read: the application's bytes stay unread.
  EXPECT_EQ(hex(s.unread()), hex(kAppBytes));
  EXPECT_TRUE(s.limits.empty());  // On never bounds a wait
}

TEST(Socks5Pipelined, RepliesArriveInAtMostTwoReadsAndNothingPastThemIsRead) {
  // Pipelined, the proxy answers every message we sent: the read of the method
  // choice also takes the auth reply and a reply's shortest form (8 bytes),
  // so a one-byte name's reply needs no second read, and no read reaches the
  // application's bytes.
  const Bytes v6_reply =
      cat({bytes({0x05, 0x00, 0x00, 0x04}), Bytes(16, std::byte{0x20}), bytes({0x00, 0x50})});
  const Bytes name_reply =
      cat({bytes({0x05, 0x00, 0x00, 0x03, 10}), text("relay.test"), bytes({0x04, 0x38})});
  const Bytes shortest_reply = cat({bytes({0x05, 0x00, 0x00, 0x03, 1}), text("r"), bytes({0, 1})});
  ASSERT_EQ(shortest_reply.size(), kShortestReply);
  for (const Bytes& reply : {kReplyOk, v6_reply, name_reply, shortest_reply}) {
    for (const bool password : {false, true}) {
      ScriptedStream s(password ? cat({kChoosePassword, kAuthOk, reply, kAppBytes})
                                : cat({kChooseNoAuth, reply, kAppBytes}));
      const auto r = handshake(s, password ? kAlice : Credentials{}, Command::Connect, kTarget,
                               Pipelining::On);
      ASSERT_TRUE(r) << r.error().what;
      EXPECT_EQ(hex(s.unread()), hex(kAppBytes)) << hex(reply) << " password " << password;
      EXPECT_EQ(s.reads, reply.size() == kShortestReply ? 1 : 2)
          << hex(reply) << " password " << password;
    }
  }
}

TEST(Socks5Pipelined, RefusedMethodChoiceAloneIsReadWithoutWaitingForMore) {
  // The proxy refuses our only method and closes: the first read brings two
  // bytes of the ten it may take, and that is the answer.
  ScriptedStream s(bytes({0x05, 0xff}));
  const auto r = handshake(s, {}, Command::Connect, kTarget, Pipelining::On);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, EACCES);
  EXPECT_EQ(s.reads, 1);
}

TEST(Socks5Pipelined, PasswordOffersOnlyUserPasswordAndSendsAuthAndRequestInTheSameWrite) {
  ScriptedStream s(cat({kChoosePassword, kAuthOk, kReplyOk}));
  s.read_chunk = 1;  // replies split anywhere are still read in order
  const auto r = handshake(s, kAlice, Command::Connect, kTarget, Pipelining::On);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(r->bound, kBound);
  ASSERT_EQ(s.writes.size(), 1u);
  EXPECT_EQ(hex(s.writes[0]), hex(cat({kGreetingOnlyPassword, kAliceAuth, kTargetRequest})));
  EXPECT_TRUE(s.unread().empty());
}

TEST(Socks5Pipelined, UdpAssociateIsPipelinedToo) {
  const Endpoint any = v4(0, 0, 0, 0, 0);
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
  const auto r = handshake(s, {}, Command::UdpAssociate, any, Pipelining::Probe);
  ASSERT_TRUE(r) << r.error().what;
  ASSERT_EQ(s.writes.size(), 1u);
  EXPECT_EQ(hex(s.writes[0]),
            hex(cat({kGreetingOnlyNoAuth, bytes({0x05, 0x03, 0x00, 0x01, 0, 0, 0, 0, 0, 0})})));
}

TEST(Socks5Pipelined, ShortWritesStillSendEverythingInOrder) {
  ScriptedStream s(cat({kChoosePassword, kAuthOk, kReplyOk}));
  s.write_chunk = 5;
  const auto r = handshake(s, kAlice, Command::Connect, kTarget, Pipelining::On);
  ASSERT_TRUE(r) << r.error().what;
  EXPECT_EQ(hex(s.written), hex(cat({kGreetingOnlyPassword, kAliceAuth, kTargetRequest})));
  EXPECT_GT(s.writes.size(), 1u);
}

TEST(Socks5Pipelined, ProbeFallsBackWhenTheProxyAnswersTheGreetingAndGoesQuiet) {
  // microsocks: 05 00, then it dropped what followed the greeting and waits.
  ScriptedStream s(kChooseNoAuth);
  s.stall_at = kChooseNoAuth.size();
  const auto r = handshake(s, {}, Command::Connect, kTarget, Pipelining::Probe);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().retry_sequential);
  EXPECT_EQ(r.error().error.code, ETIMEDOUT);
  EXPECT_EQ(s.stalled_reads, 1);
  // The wait was bounded (>= 200 ms) after the method choice, and lifted on the way out.
  ASSERT_EQ(s.limits.size(), 2u);
  EXPECT_GE(s.limits[0], 200);
  EXPECT_LE(s.limits[0], 2000);
  EXPECT_EQ(s.limits[1], 0);
}

TEST(Socks5Pipelined, ProbeFallsBackWhenTheProxyHangsUpAfterTheMethodChoice) {
  ScriptedStream s(kChoosePassword);  // then ECONNRESET
  const auto r = handshake(s, kAlice, Command::Connect, kTarget, Pipelining::Probe);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().retry_sequential);
}

TEST(Socks5Pipelined, OnNeverFallsBack) {
  ScriptedStream s(kChooseNoAuth);
  s.stall_at = kChooseNoAuth.size();
  const auto r = handshake(s, {}, Command::Connect, kTarget, Pipelining::On);
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().retry_sequential);
  EXPECT_EQ(r.error().error.code, ETIMEDOUT);
  EXPECT_TRUE(s.limits.empty());
}

TEST(Socks5Pipelined, ProbeThatGotTheAuthReplyWaitsForTheConnectReplyUnbounded) {
  // The auth reply proves the proxy read past the greeting: the CONNECT reply
  // may then take as long as the destination does, and a stall is a failure.
  ScriptedStream s(cat({kChoosePassword, kAuthOk}));
  s.stall_at = kChoosePassword.size() + kAuthOk.size();
  const auto r = handshake(s, kAlice, Command::Connect, kTarget, Pipelining::Probe);
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error().retry_sequential);
  ASSERT_EQ(s.limits.size(), 2u);
  EXPECT_EQ(s.limits[1], 0);  // lifted before the CONNECT reply
}

TEST(Socks5Pipelined, ProbeEndsWithTheFirstByteOfTheNextReply) {
  // A slow proxy that has started its CONNECT reply took our bytes: a stall
  // in the middle of that reply is a failure, not a reason to fall back.
  ScriptedStream s(cat({kChooseNoAuth, Bytes(kReplyOk.begin(), kReplyOk.begin() + 3)}));
  s.read_chunk = 1;
  s.stall_at = kChooseNoAuth.size() + 3;
  const auto r = handshake(s, {}, Command::Connect, kTarget, Pipelining::Probe);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, ETIMEDOUT);
  EXPECT_FALSE(r.error().retry_sequential);
  ASSERT_EQ(s.limits.size(), 2u);
  EXPECT_EQ(s.limits[1], 0);
}

TEST(Socks5Pipelined, ProbeRetriesSequentiallyWhenTheOnlyMethodOfferedIsRefused) {
  ScriptedStream s(bytes({0x05, 0xff}));
  const auto r = handshake(s, kAlice, Command::Connect, kTarget, Pipelining::Probe);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, EACCES);
  EXPECT_TRUE(r.error().retry_sequential);  // offered both, it may waive auth
}

TEST(Socks5Pipelined, RefusalsAndRejectedCredentialsAreFinal) {
  ScriptedStream rejected(cat({kChoosePassword, bytes({0x01, 0x01})}));
  auto r = handshake(rejected, kAlice, Command::Connect, kTarget, Pipelining::Probe);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, EACCES);
  EXPECT_FALSE(r.error().retry_sequential);

  ScriptedStream refused(cat({kChooseNoAuth, bytes({0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0})}));
  r = handshake(refused, {}, Command::Connect, kTarget, Pipelining::Probe);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, ECONNREFUSED);
  EXPECT_FALSE(r.error().retry_sequential);
}

TEST(Socks5Pipelined, MethodWeDidNotOfferIsAProtocolError) {
  // Offered only username/password; a waiver is not ours to accept pipelined:
  // the proxy would read our credentials as a request.
  ScriptedStream s(cat({kChooseNoAuth, kReplyOk}));
  const auto r = handshake(s, kAlice, Command::Connect, kTarget, Pipelining::On);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error.code, EPROTO);
}

TEST(Socks5Pipelined, SequentialStillOneMessagePerWrite) {
  ScriptedStream s(cat({kChoosePassword, kAuthOk, kReplyOk}));
  const auto r = handshake(s, kAlice, Command::Connect, kTarget, Pipelining::Off);
  ASSERT_TRUE(r) << r.error().what;
  ASSERT_EQ(s.writes.size(), 3u);
  EXPECT_EQ(hex(s.writes[0]), hex(kGreetingWithAuth));
  EXPECT_EQ(hex(s.writes[1]), hex(kAliceAuth));
  EXPECT_EQ(hex(s.writes[2]), hex(kTargetRequest));
}

TEST(Socks5Pipelined, ProbeWindowIsFourRoundTripsBetween200MsAnd2s) {
  using std::chrono::microseconds;
  EXPECT_EQ(probe_window(microseconds{0}).count(), 200);
  EXPECT_EQ(probe_window(microseconds{30'000}).count(), 200);
  EXPECT_EQ(probe_window(microseconds{100'000}).count(), 400);
  EXPECT_EQ(probe_window(microseconds{100'001}).count(), 401);
  EXPECT_EQ(probe_window(microseconds{5'000'000}).count(), 2000);
}

}  // namespace
}  // namespace socksify::socks5
