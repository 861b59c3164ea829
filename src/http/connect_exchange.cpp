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
  for (;;) {
    const Parsed p = parse_response(std::span<const std::byte>(in.data(), have));
    if (p.status == ParseStatus::Ok) {
      const int e = status_errno(p.code);
      if (e != 0) return fail(e, Stage::Reply, status_text(p.code));
      return socks5::Reply{};
    }
    if (p.status == ParseStatus::TooLarge) {
      return fail(EPROTO, Stage::Reply, "proxy reply headers larger than 8 KiB");
    }
    // A broken parser must not turn into an overrun or a spin.
    if (p.status == ParseStatus::Malformed || p.size <= have || p.size > in.size()) {
      return fail(EPROTO, Stage::Reply, "malformed HTTP reply");
    }
    const std::span<std::byte> room = std::span(in).subspan(have, p.size - have);
    auto n = stream.read_some(room);
    const Stage stage = have == 0 ? Stage::Greeting : Stage::Reply;
    if (!n) return socks5::Failure{n.error(), stage, 0, "proxy connection failed"};
    if (*n == 0) return fail(ECONNRESET, stage, "proxy closed the connection");
    if (*n > room.size()) return fail(EIO, stage, "stream returned more than asked");
    have += *n;
  }
}

}  // namespace socksify::http
