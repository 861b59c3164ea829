#include "http/connect_exchange.hpp"

#include <array>
#include <cerrno>

#include "http/connect_codec.hpp"

namespace socksify::http {
namespace {

socks5::Failure fail(int code, socks5::Stage stage, std::string_view what) {
  return socks5::Failure{Errno{code}, stage, 0, what};
}

}  // namespace

Result<socks5::Reply, socks5::Failure> connect(socks5::Stream& stream, std::string_view user,
                                               std::string_view password, const Endpoint& dst) {
  using socks5::Stage;
  std::array<std::byte, kMaxRequest> request{};
  auto len = encode_connect(request, dst, user, password);
  if (!len) return fail(len.error().code, Stage::Request, "destination cannot be named in HTTP");
  if (auto sent = socks5::write_all(stream, std::span(request).first(*len)); !sent) {
    return socks5::Failure{sent.error(), Stage::Greeting, 0, "sending CONNECT failed"};
  }

  std::array<std::byte, kMaxResponse> in{};
  std::size_t have = 0;
  // Bytes past `have` the last peek showed (peeking: the stream can).
  std::size_t seen = 0;
  bool peeking = true;
  for (;;) {
    const Parsed p = parse_response(std::span<const std::byte>(in.data(), have + seen));
    if (p.status == ParseStatus::Ok) {
      // Peeked: take exactly the headers; what follows is the application's.
      if (auto st = socks5::read_all(stream, std::span(in).subspan(have, p.size - have)); !st) {
        return socks5::Failure{st.error(), Stage::Reply, 0, "proxy connection failed"};
      }
      const int e = status_errno(p.code);
      if (e != 0) return fail(e, Stage::Reply, status_text(p.code));
      return socks5::Reply{};
    }
    if (p.status == ParseStatus::TooLarge) {
      return fail(EPROTO, Stage::Reply, "proxy reply headers larger than 8 KiB");
    }
    // A broken parser must not turn into an overrun or a spin.
    if (p.status == ParseStatus::Malformed || p.size <= have + seen || p.size > in.size()) {
      return fail(EPROTO, Stage::Reply, "malformed HTTP reply");
    }
    if (seen > 0) {
      // The end is not among them, so every byte seen is the headers': take them.
      if (auto st = socks5::read_all(stream, std::span(in).subspan(have, seen)); !st) {
        return socks5::Failure{st.error(), Stage::Reply, 0, "proxy connection failed"};
      }
      have += seen;
      seen = 0;
    }
    const Stage stage = have == 0 ? Stage::Greeting : Stage::Reply;
    // Peeking, all the room; else no further than the headers can end.
    const std::span<std::byte> room =
        std::span(in).subspan(have, (peeking ? in.size() : p.size) - have);
    auto n = peeking ? stream.peek_some(room) : stream.read_some(room);
    if (!n && peeking && n.error().code == EOPNOTSUPP) {
      peeking = false;
      continue;
    }
    if (!n) return socks5::Failure{n.error(), stage, 0, "proxy connection failed"};
    if (*n == 0) return fail(ECONNRESET, stage, "proxy closed the connection");
    if (*n > room.size()) return fail(EIO, stage, "stream returned more than asked");
    if (peeking) {
      seen = *n;
    } else {
      have += *n;
    }
  }
}

}  // namespace socksify::http
