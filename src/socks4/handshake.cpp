#include "socks4/handshake.hpp"

#include <array>
#include <cerrno>

namespace socksify::socks4 {
namespace {

using socks5::Failure;
using socks5::Stage;

Failure fail(int code, Stage stage, std::string_view what) {
  return Failure{Errno{code}, stage, 0, what};
}

}  // namespace

Result<socks5::Reply, socks5::Failure> handshake(socks5::Stream& stream, std::string_view user_id,
                                                 Command cmd, const Endpoint& dst_in, bool names) {
  const Endpoint dst = dst_in.unmapped();
  if (dst.kind() == Endpoint::Kind::IPv6) {
    return fail(EAFNOSUPPORT, Stage::Request, "SOCKS4 cannot carry an IPv6 destination");
  }
  // socks4:// is client-side resolution: a name here came from `dns remote`
  // or a chain hop named by host; sending it would be SOCKS4a, which the
  // proxy may not speak, and resolving it here would be a lookup inside a hook.
  if (dst.kind() == Endpoint::Kind::Name && !names) {
    return fail(EHOSTUNREACH, Stage::Request,
                "SOCKS4 cannot carry a host name (use socks4a:// or dns local)");
  }
  std::array<std::byte, kMaxRequest> request{};
  auto len = encode_request(request, cmd, dst, user_id);
  if (!len) return fail(len.error().code, Stage::Request, "user id or destination unusable");

  if (auto sent = socks5::write_all(stream, std::span(request).first(*len)); !sent) {
    return Failure{sent.error(), Stage::Greeting, 0, "sending request failed"};
  }

  std::array<std::byte, kReplySize> in{};
  std::size_t have = 0;
  for (;;) {
    const auto d = decode_reply(std::span<const std::byte>(in.data(), have));
    if (d.status == socks5::DecodeStatus::Ok) {
      const std::uint8_t cd = d.value.code;
      if (cd != static_cast<std::uint8_t>(ReplyCode::Granted)) {
        return Failure{Errno{reply_errno(cd)}, Stage::Reply, cd, reply_text(cd)};
      }
      return socks5::Reply{0, d.value.bound};
    }
    if (d.status == socks5::DecodeStatus::Malformed || d.size <= have || d.size > in.size()) {
      return fail(EPROTO, Stage::Reply, "malformed SOCKS4 reply");
    }
    // Nothing heard yet: the proxy is down or not there (failover may move on).
    const Stage stage = have == 0 ? Stage::Greeting : Stage::Reply;
    const std::span<std::byte> room = std::span(in).subspan(have, d.size - have);
    auto n = stream.read_some(room);
    if (!n) return Failure{n.error(), stage, 0, "proxy connection failed"};
    if (*n == 0) return fail(ECONNRESET, stage, "proxy closed the connection");
    if (*n > room.size()) return fail(EIO, stage, "stream returned more than asked");
    have += *n;
  }
}

}  // namespace socksify::socks4
