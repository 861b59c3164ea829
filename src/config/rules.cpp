// Direct-rule matching. Runs inside interposed calls: no allocation, no
// locale-dependent functions (tolower reads the locale), no exceptions.
#include "config/rules.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include "base/ascii.hpp"
#include "base/v4_mapped.hpp"

namespace socksify {
namespace {

// `rule_name` is already lower case (parse_direct_rule normalised it).
bool iequals(std::string_view name, std::string_view rule_name) {
  if (name.size() != rule_name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (ascii::lower(name[i]) != rule_name[i]) return false;
  }
  return true;
}

// name == suffix, or name ends with "." + suffix.
bool in_domain(std::string_view name, std::string_view suffix) {
  if (name.size() == suffix.size()) return iequals(name, suffix);
  if (name.size() < suffix.size() + 1) return false;
  const std::size_t dot = name.size() - suffix.size() - 1;
  return name[dot] == '.' && iequals(name.substr(dot + 1), suffix);
}

std::string_view without_final_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// The address a destination stands for, if it is one: IP endpoints (v4-mapped
// unmapped) and names that are IP literals, which some programs pass through
// getaddrinfo with AI_NUMERICHOST unset and we then see as names.
struct Address {
  std::uint8_t family = 0;  // 0: not an address
  std::uint8_t bytes[16] = {};
};

Address address_of(const Endpoint& dst) {
  Address a;
  if (dst.is_ip()) {
    const Endpoint e = dst.unmapped();
    const auto bytes = e.address();
    a.family = e.kind() == Endpoint::Kind::IPv4 ? AF_INET : AF_INET6;
    std::memcpy(a.bytes, bytes.data(), bytes.size());
    return a;
  }
  const std::string_view name = dst.host_name();
  char buf[INET6_ADDRSTRLEN] = {};
  if (name.empty() || name.size() >= sizeof buf) return a;
  std::memcpy(buf, name.data(), name.size());
  if (inet_pton(AF_INET, buf, a.bytes) == 1) {
    a.family = AF_INET;
  } else if (inet_pton(AF_INET6, buf, a.bytes) == 1) {
    a.family = AF_INET6;
    if (is_v4_mapped(a.bytes)) {
      std::memmove(a.bytes, a.bytes + 12, 4);
      std::memset(a.bytes + 4, 0, 12);
      a.family = AF_INET;
    }
  }
  return a;
}

bool in_network(const Address& a, const Cidr& net) {
  if (a.family == 0 || a.family != net.family) return false;
  const unsigned full = net.prefix / 8;
  const unsigned rest = net.prefix % 8;
  if (std::memcmp(a.bytes, net.bytes, full) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (net.bytes[full] & mask);
}

bool is_loopback_address(const Address& a) {
  if (a.family == AF_INET) return a.bytes[0] == 127;
  if (a.family == AF_INET6) {
    for (int i = 0; i < 15; ++i) {
      if (a.bytes[i] != 0) return false;
    }
    return a.bytes[15] == 1;
  }
  return false;
}

bool is_unspecified_address(const Address& a) {
  if (a.family == 0) return false;
  const int len = a.family == AF_INET ? 4 : 16;
  for (int i = 0; i < len; ++i) {
    if (a.bytes[i] != 0) return false;
  }
  return true;
}

bool matches(const DirectRule& rule, const Endpoint& dst, const Address& addr) {
  if (rule.port != 0 && rule.port != dst.port()) return false;
  switch (rule.kind) {
    case DirectRule::Kind::AnyHost:
      return true;
    case DirectRule::Kind::Network:
      return in_network(addr, rule.network);
    case DirectRule::Kind::DomainSuffix:
      return dst.kind() == Endpoint::Kind::Name &&
             in_domain(without_final_dot(dst.host_name()), rule.name);
    case DirectRule::Kind::HostName:
      return dst.kind() == Endpoint::Kind::Name &&
             iequals(without_final_dot(dst.host_name()), rule.name);
  }
  return false;
}

}  // namespace

bool rule_matches(const DirectRule& rule, const Endpoint& dst) {
  return matches(rule, dst, address_of(dst));
}

std::size_t first_route(std::span<const RouteRule> routes, const Endpoint& dst) {
  const Address addr = address_of(dst);
  for (std::size_t i = 0; i < routes.size(); ++i) {
    if (matches(routes[i].dest, dst, addr)) return i;
  }
  return kNoRoute;
}

bool is_direct(const Settings& settings, const Endpoint& dst) {
  const Address addr = address_of(dst);
  if (settings.direct_loopback) {
    if (is_loopback_address(addr) || is_unspecified_address(addr)) return true;
    // RFC 6761 §6.3: localhost names resolve to loopback; sending them to the
    // proxy would reach the proxy's own host instead of ours.
    if (dst.kind() == Endpoint::Kind::Name &&
        in_domain(without_final_dot(dst.host_name()), "localhost")) {
      return true;
    }
  }
  for (const DirectRule& rule : settings.direct_rules) {
    if (matches(rule, dst, addr)) return true;
  }
  return false;
}

}  // namespace socksify

namespace socksify {

RouteChoice choose_route(const Settings& settings, const Endpoint& dst) {
  const bool onion = dst.kind() == Endpoint::Kind::Name && is_onion_name(dst.host_name());
  if (!onion && is_direct(settings, dst)) {
    return {RouteRule::Action::Direct, 0, kNoRoute, true};
  }
  const Address addr = address_of(dst);
  const auto& routes = settings.routes;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const RouteRule& r = routes[i];
    if (!matches(r.dest, dst, addr)) continue;
    if (onion && r.action == RouteRule::Action::Direct) continue;
    return {r.action, r.group, i, false};
  }
  return {};
}

}  // namespace socksify
