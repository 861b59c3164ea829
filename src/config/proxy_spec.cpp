// Proxy URL parsing. The one rule that shapes this file: no error message may
// contain any byte of the user-info part, because URLs come from environment
// variables and config files that users paste into bug reports. Messages quote
// only the scheme, the host and the port, which sit outside the credentials.
#include "config/proxy_spec.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstddef>
#include <optional>

#include "base/ascii.hpp"
#include "base/decimal.hpp"

namespace socksify {
namespace {

// RFC 1929 §2: ULEN and PLEN are one byte each.
constexpr std::size_t kMaxCredential = 255;
// RFC 1928 §5: a domain name travels with a one-byte length.
constexpr std::size_t kMaxHost = 255;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1. Returns nullopt on a malformed escape; the caller names the
// field, never its content.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// RFC 3986 §2.3 unreserved characters pass through; everything else is
// escaped so that display() output parses back to the same user name.
std::string percent_encode(std::string_view in) {
  std::string out;
  for (const char c : in) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

// Letters, digits, '-', '.', and '_' (seen in real internal names even though
// RFC 952 forbids it). Anything else is far more likely a typo than a host.
bool valid_host_name(std::string_view host) {
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool valid_scheme(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    if (!(alpha || (i > 0 && other))) return false;
  }
  return true;
}

// The port text is never quoted: in "socks5://user:pass" (the '@' forgotten)
// the password sits exactly where the port would be.
Result<std::uint16_t, Message> parse_port(std::string_view text) {
  if (text.empty()) return Message{"missing port after ':'"};
  const auto value = parse_decimal(text, 65535);
  if (!value && value.error() == DecimalError::NotDigits) {
    return Message{"invalid port (not a number)"};
  }
  if (!value || *value < 1) return Message{"port out of range (1..65535)"};
  return static_cast<std::uint16_t>(*value);
}

// Parses "user[:password]" into spec. Messages name the field, never quote it.
Result<void, Message> parse_userinfo(std::string_view userinfo, ProxySpec& spec) {
  const std::size_t colon = userinfo.find(':');
  const std::string_view raw_user = userinfo.substr(0, colon);
  const std::string_view raw_pass =
      colon == std::string_view::npos ? std::string_view{} : userinfo.substr(colon + 1);
  auto user = percent_decode(raw_user);
  if (!user) return Message{"invalid percent-encoding in user name"};
  auto pass = percent_decode(raw_pass);
  if (!pass) return Message{"invalid percent-encoding in password"};
  // RFC 1929 §2: ULEN is 1..255, so a password cannot stand without a user.
  if (user->empty()) return Message{"empty user name before '@'"};
  if (user->size() > kMaxCredential) {
    return Message{"user name longer than 255 bytes (RFC 1929)"};
  }
  if (pass->size() > kMaxCredential) return Message{"password longer than 255 bytes (RFC 1929)"};
  spec.user = std::move(*user);
  spec.password = std::move(*pass);
  return {};
}

// Parses "host[:port][/]" or "[v6][:port][/]".
Result<void, Message> parse_hostport(std::string_view rest, ProxySpec& spec) {
  std::string_view host;
  std::string_view after;  // what follows the host: "", ":port...", "/"
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return Message{"unterminated IPv6 bracket"};
    host = rest.substr(1, close - 1);
    after = rest.substr(close + 1);
    if (host.empty()) return Message{"missing host"};
    std::string buf(host);
    in6_addr a6;
    if (inet_pton(AF_INET6, buf.c_str(), &a6) != 1) {
      return Message{fmt::format("invalid IPv6 address '{}'", host)};
    }
  } else {
    const std::size_t end = rest.find_first_of(":/");
    host = rest.substr(0, end);
    after = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    if (host.empty()) {
      // "socks5://::1" is the usual way to get here; say what would work.
      if (after.size() > 1 && after[0] == ':' && after.substr(1).find(':') != after.npos) {
        return Message{"IPv6 address must be in brackets, e.g. socks5://[::1]:1080"};
      }
      return Message{"missing host"};
    }
    if (!after.empty() && after[0] == ':' && after.substr(1).find(':') != after.npos) {
      return Message{"IPv6 address must be in brackets, e.g. socks5://[::1]:1080"};
    }
    if (host.size() > kMaxHost) return Message{"host name longer than 255 bytes"};
    if (!valid_host_name(host)) {
      return Message{fmt::format("invalid character in host name '{}'", host)};
    }
    // "1.2.3.999" is not a name that happens to be numeric: refuse it rather
    // than let the resolver try it.
    if (host.front() == '.' || host.find("..") != std::string_view::npos) {
      return Message{fmt::format("empty label in host name '{}'", host)};
    }
    if (ascii::looks_numeric(host)) {
      std::string buf(host);
      in_addr a4;
      if (inet_pton(AF_INET, buf.c_str(), &a4) != 1) {
        return Message{fmt::format("invalid IPv4 address '{}'", host)};
      }
    }
  }
  spec.host = std::string(host);

  if (!after.empty() && after[0] == ':') {
    const std::size_t slash = after.find('/');
    auto port = parse_port(after.substr(1, slash == after.npos ? after.npos : slash - 1));
    if (!port) return port.error();
    spec.port = *port;
    after = slash == after.npos ? std::string_view{} : after.substr(slash);
  }
  if (!after.empty() && after != "/") {
    return Message{"unexpected text after the host and port (only a trailing '/' is allowed)"};
  }
  return {};
}

}  // namespace

Result<ProxySpec, Message> parse_proxy_url(std::string_view url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return Message{"missing scheme (use socks5://host:port or socks5h://host:port)"};
  }
  const std::string_view scheme = url.substr(0, sep);
  ProxySpec spec;
  if (ascii::iequals(scheme, "socks5")) {
    spec.remote_dns = false;
  } else if (ascii::iequals(scheme, "socks5h")) {
    spec.remote_dns = true;
  } else if (ascii::iequals(scheme, "socks4")) {
    spec.protocol = ProxyProtocol::Socks4;
    spec.remote_dns = false;
  } else if (ascii::iequals(scheme, "socks4a")) {
    spec.protocol = ProxyProtocol::Socks4a;
    spec.remote_dns = true;
  } else if (ascii::iequals(scheme, "http")) {
    // CONNECT takes a host name as readily as an address, and curl sends
    // names to an http:// proxy too. Default port 1080, as curl's.
    spec.protocol = ProxyProtocol::Http;
    spec.remote_dns = true;
  } else if (valid_scheme(scheme)) {
    return Message{
        fmt::format("unsupported scheme '{}' (use socks5://, socks5h:// or http://)", scheme)};
  } else {
    // Not quoted: a mistyped URL such as "socks5//user:pw://..." would put
    // part of the password into the "scheme".
    return Message{"invalid scheme (use socks5://, socks5h:// or http://)"};
  }

  std::string_view rest = url.substr(sep + 3);
  // The last '@' ends the user info: a password with a raw '@' or '/' still
  // lands in the password and never in a host that an error message quotes.
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    auto ok = parse_userinfo(rest.substr(0, at), spec);
    if (!ok) return ok.error();
    // SOCKS4 sends the user in the clear as USERID and has nowhere for a
    // password; dropping it silently would let a user think it was sent.
    if ((spec.protocol == ProxyProtocol::Socks4 || spec.protocol == ProxyProtocol::Socks4a) &&
        !spec.password.empty()) {
      return Message{"SOCKS4 has no password: give only a user id (socks4://user@host)"};
    }
    rest = rest.substr(at + 1);
  }
  auto ok = parse_hostport(rest, spec);
  if (!ok) return ok.error();
  return spec;
}

std::string ProxySpec::display() const {
  std::string out = protocol == ProxyProtocol::Socks4    ? "socks4://"
                    : protocol == ProxyProtocol::Socks4a ? "socks4a://"
                    : protocol == ProxyProtocol::Http    ? "http://"
                    : remote_dns                         ? "socks5h://"
                                                         : "socks5://";
  if (!user.empty()) {
    out += percent_encode(user);
    if (!password.empty()) out += ":***";
    out += '@';
  }
  if (host.find(':') != std::string::npos) {
    out += fmt::format("[{}]", host);
  } else {
    out += host;
  }
  out += fmt::format(":{}", port);
  return out;
}

}  // namespace socksify
