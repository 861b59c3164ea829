// SOCKS4 and SOCKS4a wire codec: pure encode/decode, no I/O. SOCKS4 has no
// RFC; the references are "SOCKS: A protocol for TCP proxy across firewalls"
// (Ying-Da Lee, the v4 text) and "SOCKS 4A: A Simple Extension to SOCKS 4".
// The decoder follows socks5/codec.hpp's contract (Ok / NeedMore / Malformed),
// so a reader never reads past the 8-byte reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "socks5/codec.hpp"

namespace socksify::socks4 {

inline constexpr std::uint8_t kVersion = 0x04;       // VN of a request
inline constexpr std::uint8_t kReplyVersion = 0x00;  // VN of a reply

enum class Command : std::uint8_t { Connect = 0x01, Bind = 0x02 };

enum class ReplyCode : std::uint8_t {
  Granted = 90,
  Rejected = 91,        // request rejected or failed
  NoIdentd = 92,        // the proxy cannot reach identd on the client
  IdentdMismatch = 93,  // identd and the USERID disagree
};

// Our own cap on USERID (the protocol has none); the same as RFC 1929's ULEN,
// so a user name that works with socks5:// works here.
inline constexpr std::size_t kMaxUserId = 255;
// VN CD DSTPORT(2) DSTIP(4) USERID NUL [HOST NUL]
inline constexpr std::size_t kMaxRequest = 8 + kMaxUserId + 1 + Endpoint::kMaxNameLength + 1;
inline constexpr std::size_t kReplySize = 8;

// An IPv4 destination gives the SOCKS4 form; a name the SOCKS4a form (DSTIP
// 0.0.0.1, the name after the USERID). Errors: Errno{EAFNOSUPPORT} for an IPv6
// destination (SOCKS4 has 4 address bytes), Errno{EINVAL} for Kind::None or a
// USERID with a NUL byte or longer than kMaxUserId, Errno{ENOBUFS} when out is
// too small.
Result<std::size_t> encode_request(std::span<std::byte> out, Command cmd, const Endpoint& dst,
                                   std::string_view user_id);

struct Reply {
  std::uint8_t code = 0;  // raw CD byte; compare with ReplyCode
  Endpoint bound;         // DSTPORT/DSTIP of the reply (BIND's listener), always IPv4
};
// Malformed: VN != 0, or a CD outside 90..93.
socks5::Decoded<Reply> decode_reply(std::span<const std::byte> in);

// The errno a program sees for a refusal: 91 ECONNREFUSED (the one code a v4
// proxy has for "the destination could not be reached", which is what it sends
// when the target refuses; Dante uses it for every failure), 92 and 93 EACCES
// (the proxy refuses us on identity grounds, as SOCKS5's "not allowed" and a
// rejected RFC 1929 password do); 90 -> 0; anything else EPROTO.
int reply_errno(std::uint8_t cd);
// "request rejected or failed" etc., for log lines.
std::string_view reply_text(std::uint8_t cd);

}  // namespace socksify::socks4
