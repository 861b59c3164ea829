#include "socks4/codec.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include "base/named.hpp"

namespace socksify::socks4 {

Result<std::size_t> encode_request(std::span<std::byte> out, Command cmd, const Endpoint& dst,
                                   std::string_view user_id) {
  const Endpoint::Kind kind = dst.kind();
  if (kind == Endpoint::Kind::None) return Errno{EINVAL};
  if (kind == Endpoint::Kind::IPv6) return Errno{EAFNOSUPPORT};
  if (user_id.size() > kMaxUserId || user_id.find('\0') != std::string_view::npos) {
    return Errno{EINVAL};
  }
  const std::string_view host = dst.host_name();
  const bool named = kind == Endpoint::Kind::Name;
  const std::size_t size = 8 + user_id.size() + 1 + (named ? host.size() + 1 : 0);
  if (out.size() < size) return Errno{ENOBUFS};

  std::size_t n = 0;
  out[n++] = std::byte{kVersion};
  out[n++] = static_cast<std::byte>(cmd);
  out[n++] = static_cast<std::byte>(dst.port() >> 8);
  out[n++] = static_cast<std::byte>(dst.port() & 0xFF);
  if (named) {
    // SOCKS4a: 0.0.0.x with x != 0 says "the name follows"; a v4-only server
    // reads it as an address nobody can reach and refuses.
    constexpr std::array<std::byte, 4> kNameFollows{std::byte{0}, std::byte{0}, std::byte{0},
                                                    std::byte{1}};
    std::memcpy(&out[n], kNameFollows.data(), 4);
  } else {
    std::memcpy(&out[n], dst.address().data(), 4);
  }
  n += 4;
  std::memcpy(&out[n], user_id.data(), user_id.size());
  n += user_id.size();
  out[n++] = std::byte{0};
  if (named) {
    std::memcpy(&out[n], host.data(), host.size());
    n += host.size();
    out[n++] = std::byte{0};
  }
  return n;
}

socks5::Decoded<Reply> decode_reply(std::span<const std::byte> in) {
  using socks5::DecodeStatus;
  socks5::Decoded<Reply> d;
  // Judge what has arrived before asking for more: a garbage first byte is
  // Malformed at once, not after waiting for 7 more bytes that may never come.
  if (!in.empty() && in[0] != std::byte{kReplyVersion}) return {DecodeStatus::Malformed, 0, {}};
  if (in.size() >= 2) {
    const auto cd = static_cast<std::uint8_t>(in[1]);
    if (cd < static_cast<std::uint8_t>(ReplyCode::Granted) ||
        cd > static_cast<std::uint8_t>(ReplyCode::IdentdMismatch)) {
      return {DecodeStatus::Malformed, 0, {}};
    }
  }
  if (in.size() < kReplySize) {
    d.size = kReplySize;
    return d;
  }
  std::array<std::uint8_t, 4> ip{};
  for (std::size_t i = 0; i < 4; ++i) ip[i] = static_cast<std::uint8_t>(in[4 + i]);
  const auto port = static_cast<std::uint16_t>((static_cast<unsigned>(in[2]) << 8) |
                                               static_cast<unsigned>(in[3]));
  d.status = DecodeStatus::Ok;
  d.size = kReplySize;
  d.value.code = static_cast<std::uint8_t>(in[1]);
  d.value.bound = Endpoint::ipv4(ip, port);
  return d;
}

namespace {

// What each reply code (CD) means, as an errno and as text.
constexpr CodeMeaning<ReplyCode> kReplies[] = {
    {ReplyCode::Granted, 0, "request granted"},
    {ReplyCode::Rejected, ECONNREFUSED, "SOCKS4 request rejected or failed"},
    {ReplyCode::NoIdentd, EACCES, "SOCKS4 proxy cannot reach identd on this host"},
    {ReplyCode::IdentdMismatch, EACCES, "SOCKS4 proxy's identd check does not match the user id"},
};

}  // namespace

int reply_errno(std::uint8_t cd) {
  return error_of(kReplies, static_cast<ReplyCode>(cd), EPROTO);
}

std::string_view reply_text(std::uint8_t cd) {
  return text_of(kReplies, static_cast<ReplyCode>(cd), "unknown SOCKS4 reply code");
}

}  // namespace socksify::socks4
