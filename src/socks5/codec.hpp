// SOCKS5 wire codec (RFC 1928, RFC 1929): pure encode/decode, no I/O.
// Encoders write into a caller buffer and return the byte count. Decoders take
// the bytes received so far and say Ok (with the bytes consumed), NeedMore (with
// the total size needed so far, so a reader can read exactly that much and never
// swallow application bytes that follow a reply) or Malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"
#include "base/result.hpp"

namespace socksify::socks5 {

inline constexpr std::uint8_t kVersion = 0x05;
inline constexpr std::uint8_t kAuthVersion = 0x01;  // RFC 1929 §2

enum class Method : std::uint8_t {
  NoAuth = 0x00,
  Gssapi = 0x01,
  UserPassword = 0x02,
  NoAcceptable = 0xFF,
};

enum class Command : std::uint8_t { Connect = 0x01, Bind = 0x02, UdpAssociate = 0x03 };

enum class AddressType : std::uint8_t { IPv4 = 0x01, Domain = 0x03, IPv6 = 0x04 };

enum class ReplyCode : std::uint8_t {
  Succeeded = 0x00,
  GeneralFailure = 0x01,
  NotAllowed = 0x02,
  NetworkUnreachable = 0x03,
  HostUnreachable = 0x04,
  ConnectionRefused = 0x05,
  TtlExpired = 0x06,
  CommandNotSupported = 0x07,
  AddressTypeNotSupported = 0x08,
};

// Largest messages, for stack buffers.
inline constexpr std::size_t kMaxGreeting = 2 + 255;
inline constexpr std::size_t kMaxAuthRequest = 3 + 255 + 255;
inline constexpr std::size_t kMaxRequest = 4 + 1 + 255 + 2;  // domain ATYP is the longest
inline constexpr std::size_t kMaxReply = kMaxRequest;
// The shortest reply: a one-byte name (RFC 1928 §6; an empty one is malformed).
inline constexpr std::size_t kShortestReply = 4 + 1 + 1 + 2;
inline constexpr std::size_t kMaxUdpHeader = 4 + 1 + 255 + 2;

enum class DecodeStatus : std::uint8_t { Ok, NeedMore, Malformed };

template <class T>
struct Decoded {
  DecodeStatus status = DecodeStatus::NeedMore;
  // Ok: bytes consumed. NeedMore: total bytes needed (at least, so far) to make
  // progress; always > the input size. Malformed: 0.
  std::size_t size = 0;
  T value{};
};

// --- greeting (RFC 1928 §3) ---
// Offers NoAuth, plus UserPassword when with_password. out >= 4 bytes.
// Returns 0 and writes nothing when out is too small for the greeting.
std::size_t encode_greeting(std::span<std::byte> out, bool with_password);
Decoded<Method> decode_method_choice(std::span<const std::byte> in);

// --- username/password (RFC 1929 §2) ---
// Errno{EINVAL} when user or password is empty or longer than 255 bytes,
// Errno{ENOBUFS} when out is too small.
Result<std::size_t> encode_auth_request(std::span<std::byte> out, std::string_view user,
                                        std::string_view password);
// value: true when the server accepted (STATUS == 0).
Decoded<bool> decode_auth_reply(std::span<const std::byte> in);

// --- request (RFC 1928 §4) ---
// Errno{EINVAL} for Kind::None, Errno{ENOBUFS} when out is too small.
Result<std::size_t> encode_request(std::span<std::byte> out, Command cmd, const Endpoint& dst);

// --- reply (RFC 1928 §6) ---
struct Reply {
  std::uint8_t code = 0;  // raw REP byte; compare with ReplyCode
  Endpoint bound;         // BND.ADDR/BND.PORT, any ATYP
};
// Malformed: wrong version, RSV != 0, unknown ATYP, zero-length domain.
Decoded<Reply> decode_reply(std::span<const std::byte> in);

// --- UDP datagram header (RFC 1928 §7) ---
// Errno{EINVAL} for Kind::None, Errno{ENOBUFS} when out is too small.
Result<std::size_t> encode_udp_header(std::span<std::byte> out, const Endpoint& dst);
struct UdpHeader {
  std::uint8_t frag = 0;
  Endpoint address;  // the datagram's source (relay -> client)
};
// A datagram arrives whole, so a short one is Malformed, not NeedMore.
Decoded<UdpHeader> decode_udp_header(std::span<const std::byte> in);

// --- errors ---
// The errno that best tells a program why the proxy refused (one table for all):
// 01 ECONNABORTED, 02 EACCES, 03 ENETUNREACH, 04 EHOSTUNREACH, 05 ECONNREFUSED,
// 06 ETIMEDOUT, 07 EOPNOTSUPP, 08 EAFNOSUPPORT, unassigned ECONNABORTED; 00 -> 0.
int reply_errno(std::uint8_t rep);
// "connection refused by destination host" etc., for log lines.
std::string_view reply_text(std::uint8_t rep);

}  // namespace socksify::socks5
