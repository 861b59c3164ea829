// Routing rules and named proxies: which proxy (or pool, or none) carries a
// destination. Parsing here; first-match lives in rules.cpp beside the direct
// rules it shares its matcher with (it runs inside connect()).
//
//   proxy corp http://user:pw@10.0.0.5:3128       a named proxy
//   proxy pool round_robin socks5://a socks5://b  a named pool (failover when no mode)
//   route 10.0.0.0/8 via corp                     first matching line wins
//   route .onion via tor
//   route :25 via block                           EACCES and one line
//   route * via direct
//
// Destinations are those of `direct` lines (CIDR, [IPv6]/N, .domain, host,
// each with an optional :PORT, or :PORT alone) plus `*` (everything, also
// `*:PORT`). Names match the name the program asked for, which the connect
// knows only under remote DNS (socks5h://, socks4a://, http://: the fake
// address maps back to it); under local DNS the program connects to an
// address and only address rules can match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "config/direct_rule.hpp"
#include "config/proxy_spec.hpp"

namespace socksify {

// How several proxies are used. Failover: try them in order, first that
// answers wins. Chain: tunnel through each in turn (the last one reaches the
// destination). RoundRobin / Random: each connection starts at the next / a
// random proxy of the pool and fails over from there (per process: see
// core/pool_choice.hpp).
enum class ProxyMode : std::uint8_t { Failover, Chain, RoundRobin, Random };

std::string_view proxy_mode_name(ProxyMode m);  // "failover", "round_robin", ...
Result<ProxyMode, Message> parse_proxy_mode(std::string_view text);

// A named proxy or pool (`proxy NAME [MODE] URL...`).
struct ProxyGroup {
  std::string name;
  ProxyMode mode = ProxyMode::Failover;
  std::vector<ProxySpec> proxies;
  friend bool operator==(const ProxyGroup&, const ProxyGroup&) = default;
};

// The name the unnamed proxy list (`proxy URL`, SOCKSIFY_PROXY, -x) answers
// to in `via`.
inline constexpr std::string_view kDefaultProxyName = "default";

struct RouteRule {
  enum class Action : std::uint8_t { Via, Direct, Block };
  DirectRule dest;  // "*" is AnyHost with port 0
  Action action = Action::Via;
  std::string via;        // Via: the proxy name as written
  std::size_t group = 0;  // Via: 0 the unnamed list, k the k-th named group (set at load)
  std::string text;       // the line as written after "route", for --check and -v
  std::string origin;     // "file:LINE" or "SOCKSIFY_ROUTE", for messages
  friend bool operator==(const RouteRule&, const RouteRule&) = default;
};

// "DEST via NAME|direct|block". The message is the reason only.
Result<RouteRule, Message> parse_route(std::string_view text);

// True when a `proxy` value defines a named proxy (its first word is not a
// URL: no "://").
bool is_proxy_definition(std::string_view value);
// "NAME [MODE] URL [URL...]"; URLs separated by commas and/or whitespace.
Result<ProxyGroup, Message> parse_proxy_definition(std::string_view value);

// True for names under .onion (Tor): they never go direct and are never
// resolved here, whatever the rules say.
bool is_onion_name(std::string_view name);

}  // namespace socksify
