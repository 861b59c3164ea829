#include "socks5/handshake.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "socks5/early_replies.hpp"

namespace socksify::socks5 {
namespace {

Failure fail(int code, Stage stage, std::string_view what) {
  return Failure{Errno{code}, stage, 0, what};
}

// Server bytes read but not yet taken by a message.
struct Inbox {
  std::span<std::byte> buf;
  std::size_t have = 0;

  void take(std::size_t n) {
    std::memmove(buf.data(), buf.data() + n, have - n);
    have -= n;
  }
};

// Reads one server message through `in` by asking `decode` how many bytes it
// needs and reading no more than that plus `ahead`: the shortest form of the
// messages that surely follow it (pipelined, the proxy answers every message
// we sent), so a read can bring two replies at once while the bytes after the
// handshake (the application's data after a CONNECT reply) stay in the socket.
// `stage` names stream failures, `malformed_stage` bytes that do not decode.
// `on_bytes` runs after every read that brought bytes, and at once when bytes
// of this message came with an earlier read.
template <class T, class Decode, class OnBytes = void (*)()>
Result<Decoded<T>, Failure> read_message(
    Stream& stream, Inbox& in, std::size_t ahead, Decode decode, Stage stage,
    std::string_view malformed_what, Stage malformed_stage, OnBytes on_bytes = [] {}) {
  if (in.have > 0) on_bytes();
  for (;;) {
    Decoded<T> d = decode(std::span<const std::byte>(in.buf.data(), in.have));
    if (d.status == DecodeStatus::Ok) {
      in.take(d.size);
      return d;
    }
    // NeedMore never exceeds the largest message, but a broken decoder must
    // not turn into a buffer overrun.
    if (d.status == DecodeStatus::Malformed || d.size <= in.have ||
        d.size + ahead > in.buf.size()) {
      return fail(EPROTO, malformed_stage, malformed_what);
    }
    const std::span<std::byte> room = in.buf.subspan(in.have, d.size + ahead - in.have);
    auto n = stream.read_some(room);
    if (!n) return Failure{n.error(), stage, 0, "proxy connection failed"};
    // 0 bytes means the peer closed, whatever the stream calls it.
    if (*n == 0) return fail(ECONNRESET, stage, "proxy closed the connection");
    if (*n > room.size()) return fail(EIO, stage, "stream returned more than asked");
    in.have += *n;
    on_bytes();
  }
}

bool offered(Method m, bool with_password, bool pipelined) {
  if (pipelined) return m == (with_password ? Method::UserPassword : Method::NoAuth);
  return m == Method::NoAuth || (with_password && m == Method::UserPassword);
}

// Lifts a probe's bound on every way out: the stream serves the next hop of a
// chain, whose waits are its own.
class ProbeScope {
 public:
  explicit ProbeScope(Stream& stream) : stream_(stream) {}
  ~ProbeScope() {
    if (limited_) stream_.limit_waits(std::chrono::milliseconds{0});
  }
  ProbeScope(const ProbeScope&) = delete;
  ProbeScope& operator=(const ProbeScope&) = delete;
  void limit(std::chrono::milliseconds window) {
    stream_.limit_waits(window);
    limited_ = true;
    window_ = window;
  }
  void lift() {
    if (limited_) stream_.limit_waits(std::chrono::milliseconds{0});
    limited_ = false;
  }
  bool limited() const { return limited_; }
  std::chrono::milliseconds window() const { return window_; }

 private:
  Stream& stream_;
  bool limited_ = false;
  std::chrono::milliseconds window_{0};
};

// A probed proxy that went quiet (or hung up) after choosing our method did
// not take the bytes that rode behind the greeting.
Failure stalled(Failure f, const ProbeScope& probe) {
  const int e = f.error.code;
  if (probe.limited() && (e == ETIMEDOUT || e == ECONNRESET)) {
    f.retry_sequential = true;
    f.stalled_for = probe.window();
    f.what = "proxy does not take a pipelined handshake";
  }
  return f;
}

}  // namespace

std::chrono::milliseconds probe_window(std::chrono::microseconds greeting_rtt) {
  const auto four = std::chrono::ceil<std::chrono::milliseconds>(greeting_rtt * 4);
  return std::clamp(four, std::chrono::milliseconds{200}, std::chrono::milliseconds{2000});
}

Result<Reply, Failure> handshake(Stream& stream, const Credentials& creds, Command cmd,
                                 const Endpoint& dst, Pipelining how) {
  const bool with_password = !creds.user.empty();
  const bool pipelined = how != Pipelining::Off;

  // Encode everything we will send before the first write, so bad input fails
  // without leaving a half-negotiated connection behind. Pipelined, the three
  // messages sit one after another in `out` and leave in one write.
  std::array<std::byte, kMaxGreeting + kMaxAuthRequest + kMaxRequest> out{};
  static_assert(kMaxPipelined <= out.size());
  std::size_t first_write = 0;
  std::span<std::byte> auth;     // sequential only: sent after the method choice
  std::span<std::byte> request;  // sequential only: sent after auth
  if (pipelined) {
    // Exactly one method: the proxy cannot choose one whose messages we did not send.
    auto n = encode_pipelined(std::span(out).first<kMaxPipelined>(), creds, cmd, dst);
    if (!n) return n.error();
    first_write = *n;
  } else {
    first_write = encode_greeting(std::span(out).first(kMaxGreeting), with_password);
    const std::span<std::byte> auth_room = std::span(out).subspan(first_write, kMaxAuthRequest);
    if (with_password) {
      auto n = encode_auth_request(auth_room, creds.user, creds.password);
      if (!n) return fail(n.error().code, Stage::Auth, "user name or password empty or too long");
      auth = auth_room.first(*n);
    }
    // The request is sent only after a method choice that may waive auth, so
    // it cannot sit right behind the credentials.
    const std::span<std::byte> request_room =
        std::span(out).subspan(first_write + kMaxAuthRequest, kMaxRequest);
    auto request_len = encode_request(request_room, cmd, dst);
    if (!request_len) return fail(request_len.error().code, Stage::Request, "no destination");
    request = request_room.first(*request_len);
  }

  // One buffer serves every server message: the largest is the reply, and
  // the method choice may bring an auth reply and a reply's shortest form.
  std::array<std::byte, 2 + 2 + kMaxReply> buf{};
  Inbox in{buf};
  // Pipelined, what surely follows the method choice and the auth reply.
  const std::size_t reply_ahead = pipelined ? kShortestReply : 0;
  const std::size_t choice_ahead = pipelined && with_password ? 2 + kShortestReply : reply_ahead;
  ProbeScope probe(stream);

  // RFC 1928 §3: greeting and method choice.
  const auto sent_at = std::chrono::steady_clock::now();
  if (auto s = write_all(stream, std::span(out).first(first_write)); !s) {
    return Failure{s.error(), Stage::Greeting, 0, "sending greeting failed"};
  }
  // Bytes that are not a method choice are the proxy's answer (Method); a
  // proxy that hangs up first never answered (Greeting).
  auto choice = read_message<Method>(stream, in, choice_ahead, decode_method_choice,
                                     Stage::Greeting, "malformed method choice", Stage::Method);
  if (!choice) return choice.error();
  const Method method = choice->value;
  // RFC 1928 §3: X'FF' means none of ours is acceptable, and we must close.
  if (method == Method::NoAcceptable) {
    Failure f = fail(EACCES, Stage::Method, "no acceptable auth method");
    // Offered both methods, the proxy may waive auth.
    f.retry_sequential = how == Pipelining::Probe && with_password;
    return f;
  }
  if (!offered(method, with_password, pipelined)) {
    return fail(EPROTO, Stage::Method, "proxy chose a method we did not offer");
  }
  if (how == Pipelining::Probe) {
    probe.limit(probe_window(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - sent_at)));
  }

  // RFC 1929 §2: username/password sub-negotiation.
  if (method == Method::UserPassword) {
    if (!pipelined) {
      if (auto s = write_all(stream, auth); !s) {
        return Failure{s.error(), Stage::Auth, 0, "sending credentials failed"};
      }
    }
    // The first byte of the answer shows that the proxy read past the
    // greeting: the rest may take as long as it likes.
    auto status = read_message<bool>(stream, in, reply_ahead, decode_auth_reply, Stage::Auth,
                                     "malformed auth reply", Stage::Auth, [&] { probe.lift(); });
    if (!status) return stalled(status.error(), probe);
    // RFC 1929 §2: a non-zero STATUS is a failure and the server closes.
    // It read the credentials that rode behind the greeting (the probe is
    // lifted), so it has the request too: the CONNECT reply may take as long
    // as the destination does.
    if (!status->value) return fail(EACCES, Stage::Auth, "proxy rejected credentials");
  }

  // RFC 1928 §4 request, §6 reply.
  if (!pipelined) {
    if (auto s = write_all(stream, request); !s) {
      return Failure{s.error(), Stage::Request, 0, "sending request failed"};
    }
  }
  auto reply = read_message<Reply>(stream, in, 0, decode_reply, Stage::Reply, "malformed reply",
                                   Stage::Reply, [&] { probe.lift(); });
  if (!reply) return stalled(reply.error(), probe);
  const std::uint8_t rep = reply->value.code;
  if (rep != static_cast<std::uint8_t>(ReplyCode::Succeeded)) {
    return Failure{Errno{reply_errno(rep)}, Stage::Reply, rep, reply_text(rep)};
  }
  return reply->value;
}

namespace {

// write_all and read_all: the call until every byte went (or came).
template <class Bytes, class Call>
Status all_of(Bytes bytes, Call call) {
  while (!bytes.empty()) {
    auto n = call(bytes);
    if (!n) return n.error();
    // The contract promises 1..size bytes; anything else would spin or overrun.
    if (*n == 0 || *n > bytes.size()) return Errno{EIO};
    bytes = bytes.subspan(*n);
  }
  return {};
}

}  // namespace

Status write_all(Stream& stream, std::span<const std::byte> bytes) {
  return all_of(bytes, [&](std::span<const std::byte> b) { return stream.write_some(b); });
}

Status read_all(Stream& stream, std::span<std::byte> bytes) {
  return all_of(bytes, [&](std::span<std::byte> b) { return stream.read_some(b); });
}

}  // namespace socksify::socks5
