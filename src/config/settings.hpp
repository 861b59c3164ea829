// Settings: everything the library is told, and where it is read from.
// One table of options (name, default, parser, help) feeds the environment
// reader, the launcher and the man page.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/cidr.hpp"
#include "base/endpoint.hpp"
#include "base/log_level.hpp"
#include "base/result.hpp"
#include "config/direct_rule.hpp"
#include "config/proxy_spec.hpp"
#include "config/route_rules.hpp"

namespace socksify {

// Whether a SOCKS5 handshake sends greeting, auth and request in one write.
// Auto: yes, and a proxy that stalls on it is asked again one message per round
// trip on a fresh connection (and for the rest of the process); On: always;
// Off: never.
enum class Pipeline : std::uint8_t { Auto, On, Off };

// -v lines (one per connection, association and lookup): plain text or one
// JSON object per line.
enum class LogFormat : std::uint8_t { Text, Json };

struct Settings {
  std::vector<ProxySpec> proxies;                    // SOCKSIFY_PROXY; empty is an error at load
  ProxyMode proxy_mode = ProxyMode::Failover;        // SOCKSIFY_PROXY_MODE
  Pipeline pipeline = Pipeline::Auto;                // SOCKSIFY_PIPELINE
  bool early_data = false;                           // SOCKSIFY_EARLY_DATA (core/early_data.hpp)
  LogLevel log_level = LogLevel::Warn;               // SOCKSIFY_LOG_LEVEL
  std::string log_file;                              // SOCKSIFY_LOG_FILE; empty: stderr
  bool direct_loopback = true;                       // SOCKSIFY_DIRECT_LOOPBACK
  std::chrono::milliseconds connect_timeout{15000};  // SOCKSIFY_CONNECT_TIMEOUT (ms)
  bool udp = true;                                   // SOCKSIFY_UDP
  bool bind = false;                                 // SOCKSIFY_BIND
  // Remote DNS fake ranges (only used with socks5h). 240.0.0.0/4 is reserved
  // (RFC 1112 §4) and 100::/64 is discard-only (RFC 6666): neither is routed.
  Cidr fake_v4 = {};  // SOCKSIFY_FAKE_IPV4, default 240.0.0.0/4
  Cidr fake_v6 = {};  // SOCKSIFY_FAKE_IPV6, default 100::/64
  // Destinations reached without the proxy (SOCKSIFY_DIRECT, `direct` lines);
  // loopback is governed by direct_loopback instead. See rules.hpp.
  std::vector<DirectRule> direct_rules;
  // Named proxies and pools (`proxy NAME [MODE] URL...`); a route's group k
  // is named_proxies[k - 1], group 0 the unnamed list above.
  std::vector<ProxyGroup> named_proxies;
  // `route` lines and SOCKSIFY_ROUTE, in order: the first match wins (after
  // loopback and the direct rules). See config/route_rules.hpp.
  std::vector<RouteRule> routes;
  bool isolate = false;                    // SOCKSIFY_ISOLATE: a SOCKS5 login per process
  bool verbose = false;                    // SOCKSIFY_VERBOSE: one line per connection
  LogFormat log_format = LogFormat::Text;  // SOCKSIFY_LOG_FORMAT
  // Where the DNS stub sends, through the proxy over TCP, the questions it does
  // not answer itself (MX, TXT, SRV...; core/dns_intercept.hpp). Kind::None
  // (unset): those get an empty NOERROR answer. SOCKSIFY_DNS_UPSTREAM.
  Endpoint dns_upstream;

  // The proxies of route group g (0: the unnamed list) and how they are used.
  const std::vector<ProxySpec>& group_proxies(std::size_t g) const {
    return g == 0 ? proxies : named_proxies[g - 1].proxies;
  }
  ProxyMode group_mode(std::size_t g) const {
    return g == 0 ? proxy_mode : named_proxies[g - 1].mode;
  }
  std::size_t group_count() const { return 1 + named_proxies.size(); }
  // Whether names are handed to a proxy: some group's proxies take names
  // (socks5h://, socks4a://, http://), so lookups get remote-DNS addresses
  // unless their route goes to a group that resolves locally.
  bool remote_dns() const {
    for (std::size_t g = 0; g < group_count(); ++g) {
      const auto& list = group_proxies(g);
      if (!list.empty() && list.front().remote_dns) return true;
    }
    return false;
  }
  bool group_remote_dns(std::size_t g) const {
    const auto& list = group_proxies(g);
    return !list.empty() && list.front().remote_dns;
  }
};

// Reads a variable; nullptr when unset. Tests pass a map; the library getenv
// (secure_getenv for setuid processes).
using EnvLookup = std::function<const char*(const char* name)>;

// Every problem found, as "SOCKSIFY_X: why" messages; Ok only when there are none.
Result<Settings, std::vector<std::string>> load_settings(const EnvLookup& env);

// A config file's contents and the name its messages use ("file:line: why").
struct ConfigText {
  std::string name;
  std::string text;
};

// Layers defaults < config file < environment: a variable that is set wins
// over the file's line, a list variable (SOCKSIFY_PROXY, SOCKSIFY_DIRECT)
// replaces the file's whole list. Command-line flags come first of all: the
// launcher passes them down as SOCKSIFY_* variables. Problems from the file
// read "name:line: why", from the environment "SOCKSIFY_X: why".
Result<Settings, std::vector<std::string>> load_settings(const EnvLookup& env,
                                                         const std::optional<ConfigText>& file);

struct OptionInfo {
  std::string_view name;           // SOCKSIFY_... (NUL-terminated)
  std::string_view default_value;  // as text
  std::string_view help;
  std::string_view file_key;  // key in socksify.conf; empty: environment only
};
std::span<const OptionInfo> option_table();

}  // namespace socksify
