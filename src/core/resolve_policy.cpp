#include "core/resolve_policy.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/decimal.hpp"
#include "config/rules.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/trace.hpp"
#include "core/tree_names.hpp"

namespace socksify {
namespace {

// Anything libc would parse as an address: dotted quads in every inet_aton
// form ("127.1"), IPv6 literals, with or without a %scope.
bool is_numeric_host(const char* node) {
  in_addr v4;
  if (inet_aton(node, &v4) != 0) return true;
  return std::strchr(node, ':') != nullptr;
}

// As the fake resolver reads it: digits only (a service name or "" is port 0).
std::uint16_t numeric_port(const char* service) {
  if (service == nullptr) return 0;
  const auto v = parse_decimal(service, 65535);
  return v ? static_cast<std::uint16_t>(*v) : 0;
}

}  // namespace

FakeNames* name_table() noexcept {
  return Runtime::get().names();
}

void report_if_used_up(const FakeNames& table, const char* node) noexcept {
  if (!table.exhausted()) return;
  log::error(
      "cannot resolve {}: every remote-DNS address ({}) has been handed out; an address "
      "is never given to a second name, so new names fail (restart the program, or "
      "configure larger fake_ipv4/fake_ipv6 ranges)",
      node != nullptr ? node : "", table.address_count());
}

Lookup resolver_call_policy(bool report) noexcept {
  if (ReentryGuard::active()) return Lookup::Real;
  const Runtime& rt = Runtime::get();
  if (!rt.configured()) {
    if (report)
      log::error("refusing a DNS query: socksify is not configured ({})", rt.config_error());
    return Lookup::Refuse;
  }
  return rt.names() != nullptr ? Lookup::Fake : Lookup::Real;
}

namespace {

// The names that resolve here even under remote DNS: localhost (with
// direct_loopback), names the rules send direct, and names routed to proxies
// that take addresses (socks5://, socks4://; a .onion name never: choose_route
// sends it to a proxy by name).
bool routed_to_local_dns(const Runtime& rt, const Endpoint& ep, std::string_view name) noexcept {
  const RouteChoice c = choose_route(rt.settings(), ep);
  if (c.action == RouteRule::Action::Direct) return true;
  return c.action == RouteRule::Action::Via && !rt.settings().group_remote_dns(c.group) &&
         !is_onion_name(name);
}

}  // namespace

bool resolves_locally(std::string_view name) noexcept {
  auto ep = Endpoint::name(name, 0);
  return ep && routed_to_local_dns(Runtime::get(), *ep, name);
}

namespace {

Lookup decide_lookup(const char* node, const char* service) noexcept {
  const Runtime& rt = Runtime::get();
  if (!rt.configured()) {
    // We cannot tell whether names were meant for the proxy; a local lookup
    // could leak the name, so refuse all but the local host's own names.
    const std::string_view name(node);
    if (name == "localhost" || name.ends_with(".localhost")) return Lookup::Real;
    log::error("refusing to resolve {}: socksify is not configured ({})", name, rt.config_error());
    return Lookup::Refuse;
  }
  const std::string_view name(node);
  if (rt.names() == nullptr) {
    // socks5://: local DNS, as asked; but a .onion name means nothing to a
    // resolver and asking one tells the network which service is wanted.
    if (is_onion_name(name)) {
      log::error("refusing to resolve {} locally: .onion names need remote DNS (socks5h://)", name);
      return Lookup::Refuse;
    }
    return Lookup::Real;
  }
  auto ep = Endpoint::name(node, numeric_port(service));
  if (!ep) return Lookup::Fake;  // over-long: the fake resolver answers EAI_NONAME
  return routed_to_local_dns(rt, *ep, name) ? Lookup::Real : Lookup::Fake;
}

}  // namespace

Lookup lookup_policy(const char* node, const char* service, int ai_flags) noexcept {
  if (node == nullptr || *node == '\0' || (ai_flags & AI_NUMERICHOST) || is_numeric_host(node)) {
    return Lookup::Real;
  }
  const Lookup decision = decide_lookup(node, service);
  if (trace::on()) {
    trace::Event e;
    e.kind = "lookup";
    e.name = node;
    const Runtime& rt = Runtime::get();
    if (auto ep = Endpoint::name(node, numeric_port(service)); ep && rt.configured()) {
      const RouteChoice c = choose_route(rt.settings(), *ep);
      if (c.rule != kNoRoute) e.rule = rt.settings().routes[c.rule].text;
      e.via = c.action == RouteRule::Action::Direct  ? std::string_view("direct")
              : c.action == RouteRule::Action::Block ? std::string_view("block")
              : c.group == 0                         ? kDefaultProxyName
                             : std::string_view(rt.settings().named_proxies[c.group - 1].name);
    }
    e.outcome = decision == Lookup::Fake   ? "remote"
                : decision == Lookup::Real ? "local"
                                           : "refused";
    e.detail = decision == Lookup::Fake   ? "the proxy resolves it at connect"
               : decision == Lookup::Real ? "the system resolver"
                                          : "";
    trace::emit(e);
  }
  return decision;
}

}  // namespace socksify
