// HTTP CONNECT wire codec (RFC 9110 §9.3.6, RFC 9112, RFC 7617 Basic auth):
// pure encode/parse, no I/O, no allocation (it runs inside interposed calls).
//
// The reply parser serves a reader that must not take a single byte past the
// blank line that ends the proxy's headers: the tunnel's first bytes follow it
// in the same socket, and bytes read too far cannot be handed back to the
// program. So, like the SOCKS5 decoders, NeedMore says how many bytes in total
// may safely be read next: never more than could complete CRLFCRLF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"
#include "base/result.hpp"

namespace socksify::http {

// "CONNECT " authority " HTTP/1.1\r\nHost: " authority "\r\n" then the
// Proxy-Authorization line (base64 of 255 + 1 + 255 bytes) and "\r\n": under 1.5 KiB.
inline constexpr std::size_t kMaxRequest = 2048;
// The proxy's status line and headers; more is refused (EPROTO), not buffered.
inline constexpr std::size_t kMaxResponse = 8192;
// "HTTP/1.1 200\r\n\r\n": no reply is shorter, so the first read may take this many.
inline constexpr std::size_t kMinResponse = 16;

// The request for a tunnel to dst: an IPv6 literal in brackets, a name as the
// program gave it (the proxy resolves it). With a user, Basic credentials.
// Errno{EINVAL} for Kind::None, Errno{ENOBUFS} when out is too small.
Result<std::size_t> encode_connect(std::span<std::byte> out, const Endpoint& dst,
                                   std::string_view user, std::string_view password);

enum class ParseStatus : std::uint8_t { Ok, NeedMore, Malformed, TooLarge };

struct Parsed {
  ParseStatus status = ParseStatus::NeedMore;
  // Ok: bytes of the status line and headers, CRLFCRLF included.
  // NeedMore: total bytes to have before parsing again; > the input size,
  // <= the input size + 4, and never past the end of the headers.
  // Malformed / TooLarge: 0.
  std::size_t size = 0;
  int code = 0;  // the status code once the status line is complete, else 0
};

// Parses the bytes received so far. Strict CRLF line ends (RFC 9112 §2.2
// allows a bare LF to be accepted; accepting it would make every safe read one
// byte long, and the proxies people run send CRLF). `limit` caps the headers.
Parsed parse_response(std::span<const std::byte> in, std::size_t limit = kMaxResponse);

// What the program sees for a status: 0 for 2xx (the tunnel is up).
// 407, 401 and 403 -> EACCES (credentials missing or refused - tinyproxy
// answers wrong ones with 401 - or the proxy's policy forbids it, as SOCKS5's
// "not allowed by ruleset"); 405 and 501 (no CONNECT) -> EOPNOTSUPP;
// 502 -> EHOSTUNREACH (the proxy could not reach the next hop); 504 -> ETIMEDOUT;
// any other 4xx or 5xx, 503 and tinyproxy's 500 "Unable to connect" among them,
// -> ECONNREFUSED; 1xx, 3xx and anything else -> EPROTO (no tunnel to speak of).
int status_errno(int code);
// Static text for the one log line.
std::string_view status_text(int code);

}  // namespace socksify::http
