#include "socks5/handshake.hpp"

#include <array>
#include <cerrno>

namespace socksify::socks5 {
namespace {

Failure fail(int code, Stage stage, std::string_view what) {
  return Failure{Errno{code}, stage, 0, what};
}

// Sends all of `bytes`: write_some may take fewer than offered (a socket
// buffer, a signal), so loop until done or the stream reports an error.
Status write_all(Stream& stream, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    auto n = stream.write_some(bytes);
    if (!n) return n.error();
    // The contract promises 1..size bytes; anything else would spin or overrun.
    if (*n == 0 || *n > bytes.size()) return Errno{EIO};
    bytes = bytes.subspan(*n);
  }
  return {};
}

// Reads one server message into `buf` by asking `decode` how many bytes it
// needs and reading no more than that, so bytes that follow the message (the
// application's data after a CONNECT reply) stay in the socket.
// `stage` names stream failures, `malformed_stage` bytes that do not decode.
template <class T, class Decode>
Result<Decoded<T>, Failure> read_message(Stream& stream, std::span<std::byte> buf, Decode decode,
                                         Stage stage, std::string_view malformed_what,
                                         Stage malformed_stage) {
  std::size_t have = 0;
  for (;;) {
    Decoded<T> d = decode(std::span<const std::byte>(buf.data(), have));
    if (d.status == DecodeStatus::Ok) return d;
    // NeedMore never exceeds the largest message, but a broken decoder must
    // not turn into a buffer overrun.
    if (d.status == DecodeStatus::Malformed || d.size <= have || d.size > buf.size()) {
      return fail(EPROTO, malformed_stage, malformed_what);
    }
    const std::span<std::byte> room = buf.subspan(have, d.size - have);
    auto n = stream.read_some(room);
    if (!n) return Failure{n.error(), stage, 0, "proxy connection failed"};
    // 0 bytes means the peer closed, whatever the stream calls it.
    if (*n == 0) return fail(ECONNRESET, stage, "proxy closed the connection");
    if (*n > room.size()) return fail(EIO, stage, "stream returned more than asked");
    have += *n;
  }
}

bool offered(Method m, bool with_password) {
  return m == Method::NoAuth || (with_password && m == Method::UserPassword);
}

}  // namespace

Result<Reply, Failure> handshake(Stream& stream, const Credentials& creds, Command cmd,
                                 const Endpoint& dst) {
  const bool with_password = !creds.user.empty();

  // Encode everything we will send before the first write, so bad input fails
  // without leaving a half-negotiated connection behind.
  std::array<std::byte, kMaxAuthRequest> auth{};
  std::size_t auth_len = 0;
  if (with_password) {
    auto n = encode_auth_request(auth, creds.user, creds.password);
    if (!n) return fail(n.error().code, Stage::Auth, "user name or password empty or too long");
    auth_len = *n;
  }
  std::array<std::byte, kMaxRequest> request{};
  auto request_len = encode_request(request, cmd, dst);
  if (!request_len) return fail(request_len.error().code, Stage::Request, "no destination");

  // One buffer serves every server message; the largest is the reply.
  std::array<std::byte, kMaxReply> in{};

  // RFC 1928 §3: greeting and method choice.
  std::array<std::byte, kMaxGreeting> greeting{};
  const std::size_t greeting_len = encode_greeting(greeting, with_password);
  if (auto s = write_all(stream, std::span(greeting).first(greeting_len)); !s) {
    return Failure{s.error(), Stage::Greeting, 0, "sending greeting failed"};
  }
  // Bytes that are not a method choice are the proxy's answer (Method); a
  // proxy that hangs up first never answered (Greeting).
  auto choice = read_message<Method>(stream, in, decode_method_choice, Stage::Greeting,
                                     "malformed method choice", Stage::Method);
  if (!choice) return choice.error();
  const Method method = choice->value;
  // RFC 1928 §3: X'FF' means none of ours is acceptable, and we must close.
  if (method == Method::NoAcceptable) {
    return fail(EACCES, Stage::Method, "no acceptable auth method");
  }
  if (!offered(method, with_password)) {
    return fail(EPROTO, Stage::Method, "proxy chose a method we did not offer");
  }

  // RFC 1929 §2: username/password sub-negotiation.
  if (method == Method::UserPassword) {
    if (auto s = write_all(stream, std::span(auth).first(auth_len)); !s) {
      return Failure{s.error(), Stage::Auth, 0, "sending credentials failed"};
    }
    auto status = read_message<bool>(stream, in, decode_auth_reply, Stage::Auth,
                                     "malformed auth reply", Stage::Auth);
    if (!status) return status.error();
    // RFC 1929 §2: a non-zero STATUS is a failure and the server closes.
    if (!status->value) return fail(EACCES, Stage::Auth, "proxy rejected credentials");
  }

  // RFC 1928 §4 request, §6 reply.
  if (auto s = write_all(stream, std::span(request).first(*request_len)); !s) {
    return Failure{s.error(), Stage::Request, 0, "sending request failed"};
  }
  auto reply = read_message<Reply>(stream, in, decode_reply, Stage::Reply, "malformed reply",
                                    Stage::Reply);
  if (!reply) return reply.error();
  const std::uint8_t rep = reply->value.code;
  if (rep != static_cast<std::uint8_t>(ReplyCode::Succeeded)) {
    return Failure{Errno{reply_errno(rep)}, Stage::Reply, rep, reply_text(rep)};
  }
  return reply->value;
}

}  // namespace socksify::socks5
