#include "http/connect_codec.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

namespace socksify::http {
namespace {

// Appends to a fixed buffer; remembers running out instead of checking every call.
class Writer {
 public:
  explicit Writer(std::span<std::byte> out) : out_(out) {}
  void put(std::string_view s) {
    if (overflow_ || s.size() > out_.size() - len_) {
      overflow_ = true;
      return;
    }
    std::memcpy(out_.data() + len_, s.data(), s.size());
    len_ += s.size();
  }
  void put(char c) { put(std::string_view(&c, 1)); }
  bool overflow() const { return overflow_; }
  std::size_t size() const { return len_; }

 private:
  std::span<std::byte> out_;
  std::size_t len_ = 0;
  bool overflow_ = false;
};

// RFC 4648 §4, with padding.
void put_base64(Writer& w, std::string_view a, char sep, std::string_view b) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::size_t total = a.size() + 1 + b.size();
  auto at = [&](std::size_t i) -> unsigned {
    const char c = i < a.size() ? a[i] : i == a.size() ? sep : b[i - a.size() - 1];
    return static_cast<unsigned char>(c);
  };
  for (std::size_t i = 0; i < total; i += 3) {
    const std::size_t n = total - i < 3 ? total - i : 3;
    const unsigned v = at(i) << 16 | (n > 1 ? at(i + 1) << 8 : 0u) | (n > 2 ? at(i + 2) : 0u);
    w.put(kAlphabet[(v >> 18) & 63]);
    w.put(kAlphabet[(v >> 12) & 63]);
    w.put(n > 1 ? kAlphabet[(v >> 6) & 63] : '=');
    w.put(n > 2 ? kAlphabet[v & 63] : '=');
  }
}

// A name goes into the request line and the Host header as it is: anything
// that could end the line, the header or the authority would let a program's
// host name inject requests, so such a name is refused.
bool valid_name(std::string_view name) {
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || ch == '/' || ch == '?' || ch == '#' || ch == '@' || ch == '[' ||
        ch == ']' || ch == ':' || ch == '\\') {
      return false;
    }
  }
  return !name.empty();
}

// host:port, IPv6 in brackets (RFC 9110 §9.3.6, RFC 3986 §3.2.2).
bool put_authority(Writer& w, const Endpoint& dst) {
  char text[INET6_ADDRSTRLEN + 2 + 6] = {};
  switch (dst.kind()) {
    case Endpoint::Kind::IPv4:
      inet_ntop(AF_INET, dst.address().data(), text, sizeof text);
      w.put(std::string_view(text));
      break;
    case Endpoint::Kind::IPv6:
      inet_ntop(AF_INET6, dst.address().data(), text, sizeof text);
      w.put('[');
      w.put(std::string_view(text));
      w.put(']');
      break;
    case Endpoint::Kind::Name:
      if (!valid_name(dst.host_name())) return false;
      w.put(dst.host_name());
      break;
    case Endpoint::Kind::None:
      return false;
  }
  char port[8];
  std::size_t n = 0;
  unsigned p = dst.port();
  char rev[6];
  do {
    rev[n++] = static_cast<char>('0' + p % 10);
    p /= 10;
  } while (p != 0);
  for (std::size_t i = 0; i < n; ++i) port[i] = rev[n - 1 - i];
  w.put(':');
  w.put(std::string_view(port, n));
  return true;
}

constexpr std::string_view kTerminator = "\r\n\r\n";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The status line's fixed part, checked on whatever prefix has arrived so that
// a reply that is not HTTP at all fails on its first bytes: "HTTP/1.d ddd".
bool status_prefix_ok(std::string_view s) {
  constexpr std::string_view kPattern = "HTTP/1.# ###";
  for (std::size_t i = 0; i < s.size() && i < kPattern.size(); ++i) {
    const bool ok = kPattern[i] == '#' ? is_digit(s[i]) : s[i] == kPattern[i];
    if (!ok) return false;
  }
  // After the code: the reason phrase's space or the line's end.
  return s.size() <= kPattern.size() || s[kPattern.size()] == ' ' || s[kPattern.size()] == '\r';
}

// RFC 9110 §5.6.2 tchar, for header names.
bool is_tchar(char c) {
  if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A header line without its CRLF: "name:value", or an obs-fold continuation
// (RFC 9112 §5.2, leading SP or HTAB), which a proxy may still send.
bool header_ok(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') return true;
  const std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    if (!is_tchar(line[i])) return false;
  }
  return true;
}

}  // namespace

Result<std::size_t> encode_connect(std::span<std::byte> out, const Endpoint& dst,
                                   std::string_view user, std::string_view password) {
  Writer w(out);
  w.put("CONNECT ");
  if (!put_authority(w, dst)) return Errno{EINVAL};
  w.put(" HTTP/1.1\r\nHost: ");
  put_authority(w, dst);
  w.put("\r\n");
  if (!user.empty()) {
    // RFC 7617 §2: base64(user ":" password). A user name holding ':' cannot
    // be told apart from the password by the proxy; it is sent as given.
    w.put("Proxy-Authorization: Basic ");
    put_base64(w, user, ':', password);
    w.put("\r\n");
  }
  w.put("\r\n");
  if (w.overflow()) return Errno{ENOBUFS};
  return w.size();
}

Parsed parse_response(std::span<const std::byte> in, std::size_t limit) {
  const std::string_view s(reinterpret_cast<const char*>(in.data()), in.size());
  if (!status_prefix_ok(s)) return {ParseStatus::Malformed, 0, 0};
  int code = 0;
  std::size_t line_start = 0;
  bool status_line = true;
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      if (i + 1 < s.size() && s[i + 1] != '\n') return {ParseStatus::Malformed, 0, 0};
      continue;
    }
    if (c == '\n') {
      if (i == 0 || s[i - 1] != '\r') return {ParseStatus::Malformed, 0, 0};  // bare LF
      const std::string_view line = s.substr(line_start, i - 1 - line_start);
      if (status_line) {
        // status_prefix_ok saw the fixed part; the line must hold all of it.
        if (line.size() < 12) return {ParseStatus::Malformed, 0, 0};
        code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        status_line = false;
      } else if (line.empty()) {
        return {ParseStatus::Ok, i + 1, code};
      } else if (!header_ok(line)) {
        return {ParseStatus::Malformed, 0, 0};
      }
      line_start = i + 1;
      continue;
    }
    // Control characters other than HTAB have no place in a status line or a
    // header (RFC 9110 §5.5); bytes >= 0x80 are obs-text and pass.
    if ((c < 0x20 && c != '\t') || c == 0x7f) return {ParseStatus::Malformed, 0, 0};
  }
  if (s.size() >= limit) return {ParseStatus::TooLarge, 0, 0};
  // How much of the terminator the input already ends with: the headers end
  // no sooner than the rest of it, and no reply is shorter than kMinResponse.
  std::size_t k = 3;
  while (k > 0 && (s.size() < k || s.substr(s.size() - k) != kTerminator.substr(0, k))) --k;
  std::size_t need = s.size() + kTerminator.size() - k;
  if (need < kMinResponse) need = kMinResponse;
  if (need > limit) need = limit;
  return {ParseStatus::NeedMore, need, code};
}

int status_errno(int code) {
  if (code >= 200 && code <= 299) return 0;
  switch (code) {
    case 401:  // tinyproxy's answer to wrong Basic credentials (407 when there are none)
    case 403:
    case 407:
      return EACCES;
    case 405:
    case 501:
      return EOPNOTSUPP;
    case 502:
      return EHOSTUNREACH;
    case 504:
      return ETIMEDOUT;
    default:
      break;
  }
  if (code >= 400 && code <= 599) return ECONNREFUSED;
  return EPROTO;
}

std::string_view status_text(int code) {
  if (code >= 200 && code <= 299) return "tunnel established";
  switch (code) {
    case 400:
      return "proxy rejected the request (400 Bad Request)";
    case 401:
      return "proxy refused the credentials (401 Unauthorized)";
    case 403:
      return "proxy forbids this destination (403 Forbidden)";
    case 404:
      return "proxy does not know the destination (404 Not Found)";
    case 405:
      return "proxy does not allow CONNECT (405 Method Not Allowed)";
    case 407:
      return "proxy authentication required or refused (407)";
    case 500:
      return "proxy could not connect (500 Internal Server Error)";
    case 501:
      return "proxy does not implement CONNECT (501 Not Implemented)";
    case 502:
      return "proxy could not reach the destination (502 Bad Gateway)";
    case 503:
      return "proxy could not connect (503 Service Unavailable)";
    case 504:
      return "proxy timed out reaching the destination (504 Gateway Timeout)";
    default:
      break;
  }
  if (code >= 400 && code <= 499) return "proxy refused the request (4xx)";
  if (code >= 500 && code <= 599) return "proxy failed the request (5xx)";
  return "proxy answered without a tunnel (not 2xx)";
}

}  // namespace socksify::http
