#include "core/route.hpp"

#include <errno.h>

#include "config/rules.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/trace.hpp"
#include "core/tree_names.hpp"

namespace socksify {

namespace {

constexpr std::uint16_t kDnsPort = 53;

Route refuse(const Endpoint& dst, int error) {
  Route r;
  r.kind = Route::Kind::Refuse;
  r.target = dst;
  r.error = error;
  return r;
}

// The rules' verdict on what the proxy would be asked to reach.
Route by_rules(const Runtime& rt, const Endpoint& target, const Endpoint& plain, bool fake) {
  const RouteChoice c = choose_route(rt.settings(), target);
  switch (c.action) {
    case RouteRule::Action::Block:
      log::error("blocking {}: route '{}'", target, rt.settings().routes[c.rule].text);
      return {Route::Kind::Refuse, target, EACCES, 0, c.rule};
    case RouteRule::Action::Direct:
      if (fake) {
        // Resolved through the proxy's name table, so we have a name and no
        // address: going direct would mean resolving it here after all.
        log::error(
            "refusing {}: its name went to the proxy's DNS but the rule says direct "
            "(a port-specific direct rule? the lookup did not know the port)",
            target);
        return {Route::Kind::Refuse, target, EHOSTUNREACH, 0, c.rule};
      }
      return {Route::Kind::Direct, plain, 0, 0, c.rule};
    case RouteRule::Action::Via:
      break;
  }
  if (rt.group_proxies(c.group).empty()) {
    log::error("refusing {}: no route rule matches and no unnamed proxy is configured", target);
    return refuse(target, ENETUNREACH);
  }
  return {Route::Kind::Proxy, target, 0, c.group, c.rule};
}

Route decide(const Runtime& rt, const Endpoint& plain) noexcept {
  // Unconfigured: no rule can be trusted; the session refuses with a log line.
  if (!rt.configured()) return {Route::Kind::Proxy, plain, 0};
  // The program talking to a proxy itself (curl --socks5 under socksify).
  if (rt.is_proxy(plain)) return {Route::Kind::Direct, plain, 0};
  if (const FakeNames* names = rt.names(); names != nullptr && names->in_range(plain.address())) {
    if (auto named = names->endpoint_for(plain.address(), plain.port())) {
      return by_rules(rt, *named, plain, true);
    }
    // A fake address we never handed out (or forgot): there is no name to send,
    // and connecting to it directly would leak; refuse.
    log::error("refusing {}: a remote-DNS address with no name behind it", plain);
    return refuse(plain, EHOSTUNREACH);
  }
  return by_rules(rt, plain, plain, false);
}

}  // namespace

Route route_for(const Runtime& rt, const Endpoint& dst) noexcept {
  const Endpoint plain = dst.unmapped();
  Route route = decide(rt, plain);
  // With remote DNS, names are the proxy's business: a DNS query that would go
  // out directly (to a local resolver on loopback, or a network ruled direct)
  // would leak every name the program looks up. The proxy itself is exempt
  // (the program may talk DNS to it knowingly).
  if (route.kind == Route::Kind::Direct && plain.port() == kDnsPort && rt.configured() &&
      rt.settings().remote_dns() && !rt.is_proxy(plain)) {
    log::error("refusing {}: DNS would bypass the proxy while remote DNS (socks5h) is on", plain);
    return refuse(plain, EACCES);
  }
  return route;
}

std::size_t route_group_for(const Runtime& rt, const Endpoint& target) noexcept {
  if (!rt.configured() || rt.settings().routes.empty()) return 0;
  const RouteChoice c = choose_route(rt.settings(), target.unmapped());
  return c.action == RouteRule::Action::Via ? c.group : 0;
}

void trace_unproxied(const Runtime& rt, const Endpoint& dst, const Route& route, int error,
                     std::int64_t ms) noexcept {
  try {
    trace::Event e;
    e.kind = "connect";
    e.dst = &dst;
    if (route.rule != kNoRoute && route.rule < rt.settings().routes.size()) {
      e.rule = rt.settings().routes[route.rule].text;
    }
    e.via = route.kind == Route::Kind::Direct ? "direct" : "block";
    e.outcome = error == 0 ? std::string_view("ok") : log::errno_name(error);
    e.ms = ms;
    trace::emit(e);
  } catch (...) {
  }
}

}  // namespace socksify
