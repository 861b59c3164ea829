// ProxySpec: one proxy (SOCKS5, SOCKS4 or SOCKS4a) as the user named it, and the URL parser.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace socksify {

// What the proxy speaks, from the URL's scheme; core/upstream.hpp maps each to
// its handshake. socks4: IPv4 only, names resolved here; socks4a: names go
// to the proxy. Http: CONNECT tunnels only (no UDP, no BIND), names always go
// to the proxy.
enum class ProxyProtocol : std::uint8_t { Socks5, Socks4, Socks4a, Http };

struct ProxySpec {
  ProxyProtocol protocol = ProxyProtocol::Socks5;
  // socks5h: names go to the proxy (remote DNS); socks5: names resolve locally.
  bool remote_dns = false;
  std::string host;  // IP literal (IPv6 without brackets) or a name
  std::uint16_t port = 1080;
  std::string user;      // empty: no RFC 1929 auth
  std::string password;  // never logged

  // "socks5h://user:***@host:port" (password masked), for logs and --check.
  std::string display() const;
  friend bool operator==(const ProxySpec&, const ProxySpec&) = default;
};

// socks5://[user[:password]@]host[:port] and socks5h://...; socks4://[user@]host[:port]
// and socks4a://... (the user is the USERID; a password is refused); http://...
// (HTTP CONNECT, Basic auth, remote DNS; default port 1080 like curl's). The scheme is
// case-insensitive; user and password are percent-decoded; IPv6 literals come in
// brackets; port 1..65535, default 1080 for every scheme; nothing after the port
// but an optional "/".
// A bare "host:port" (no scheme) is refused, so that a typo is never guessed at.
Result<ProxySpec, Message> parse_proxy_url(std::string_view url);

}  // namespace socksify
