// Parsers for `route` lines and named `proxy` definitions. Everything is
// normalised here (destinations parsed, names checked) so that matching at
// connect time only compares.
#include "config/route_rules.hpp"

#include <fmt/format.h>

#include "base/ascii.hpp"
#include "base/named.hpp"

namespace socksify {
namespace {

bool is_separator(char c) {
  return c == ',' || ascii::is_space(c);
}

std::vector<std::string_view> words(std::string_view s, bool commas) {
  std::vector<std::string_view> out;
  const auto sep = commas ? is_separator : ascii::is_space;
  for (auto w = ascii::next_word(s, sep); !w.empty(); w = ascii::next_word(s, sep)) {
    out.push_back(w);
  }
  return out;
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

Result<void, Message> check_proxy_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return Message{"a proxy name has 1 to 64 characters"};
  for (const char c : name) {
    if (!name_char(c)) {
      return Message{
          fmt::format("invalid proxy name '{}' (letters, digits, '-', '_' and '.' only)", name)};
    }
  }
  // `via direct` and `via block` are actions; `default` is the unnamed list.
  for (const auto reserved : {"direct", "block", "default"}) {
    if (ascii::iequals(name, reserved)) {
      return Message{fmt::format("'{}' is reserved and cannot name a proxy", name)};
    }
  }
  return {};
}

}  // namespace

// The modes' config words (proxy_mode, route_mode).
constexpr Named<ProxyMode> kModeNames[] = {
    {ProxyMode::Failover, "failover"},
    {ProxyMode::Chain, "chain"},
    {ProxyMode::RoundRobin, "round_robin"},
    {ProxyMode::Random, "random"},
};

std::string_view proxy_mode_name(ProxyMode m) {
  return name_of(kModeNames, m);
}

Result<ProxyMode, Message> parse_proxy_mode(std::string_view text) {
  if (const auto m = value_named(kModeNames, text)) return *m;
  return Message{fmt::format("expected failover, chain, round_robin or random, got '{}'", text)};
}

Result<RouteRule, Message> parse_route(std::string_view text) {
  const std::vector<std::string_view> w = words(text, false);
  if (w.size() != 3 || !ascii::iequals(w[1], "via")) {
    return Message{fmt::format(
        "'{}': expected 'DESTINATION via PROXY-NAME|direct|block' (e.g. '.example.com via corp')",
        text)};
  }
  RouteRule rule;
  std::string_view dest = w[0];
  if (dest == "*") {
    rule.dest = DirectRule{};  // AnyHost, every port
  } else {
    if (dest.starts_with("*:")) dest.remove_prefix(1);  // "*:443" is ":443"
    auto parsed = parse_direct_rule(dest);
    if (!parsed) return Message{fmt::format("'{}': {}", w[0], parsed.error().text)};
    rule.dest = std::move(*parsed);
  }
  const std::string_view target = w[2];
  if (ascii::iequals(target, "direct")) {
    rule.action = RouteRule::Action::Direct;
  } else if (ascii::iequals(target, "block")) {
    rule.action = RouteRule::Action::Block;
  } else {
    rule.action = RouteRule::Action::Via;
    if (!ascii::iequals(target, kDefaultProxyName)) {
      if (auto ok = check_proxy_name(target); !ok) return ok.error();
    }
    rule.via = std::string(target);
  }
  rule.text = fmt::format("{} via {}", w[0], target);
  return rule;
}

bool is_proxy_definition(std::string_view value) {
  const std::vector<std::string_view> w = words(value, true);
  return !w.empty() && w[0].find("://") == std::string_view::npos;
}

Result<ProxyGroup, Message> parse_proxy_definition(std::string_view value) {
  std::vector<std::string_view> w = words(value, true);
  if (w.empty()) return Message{"missing proxy name"};
  ProxyGroup group;
  if (auto ok = check_proxy_name(w[0]); !ok) return ok.error();
  group.name = std::string(w[0]);
  std::size_t i = 1;
  if (i < w.size() && w[i].find("://") == std::string_view::npos) {
    auto mode = parse_proxy_mode(w[i]);
    if (!mode) {
      return Message{fmt::format("proxy {}: '{}' is neither a proxy URL nor a mode ({})",
                                 group.name, w[i], mode.error().text)};
    }
    group.mode = *mode;
    ++i;
  }
  if (i == w.size()) {
    return Message{fmt::format("proxy {}: no proxy URL (expected 'proxy {} [MODE] URL...')",
                               group.name, group.name)};
  }
  for (; i < w.size(); ++i) {
    auto spec = parse_proxy_url(w[i]);
    if (!spec) return Message{fmt::format("proxy {}: {}", group.name, spec.error().text)};
    group.proxies.push_back(std::move(*spec));
  }
  return group;
}

bool is_onion_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  constexpr std::string_view kOnion = "onion";
  if (name.size() < kOnion.size()) return false;
  if (!ascii::iequals(name.substr(name.size() - kOnion.size()), kOnion)) return false;
  return name.size() == kOnion.size() || name[name.size() - kOnion.size() - 1] == '.';
}

}  // namespace socksify
