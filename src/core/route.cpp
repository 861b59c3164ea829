#include "core/route.hpp"

#include <errno.h>

#include "config/rules.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/tree_names.hpp"

namespace socksify {

namespace {

constexpr std::uint16_t kDnsPort = 53;

Route decide(const Runtime& rt, const Endpoint& plain) noexcept {
  // Unconfigured: no rule can be trusted; the session refuses with a log line.
  if (!rt.configured()) return {Route::Kind::Proxy, plain, 0};
  // The program talking to the proxy itself (curl --socks5 under socksify).
  if (rt.is_proxy(plain)) return {Route::Kind::Direct, plain, 0};
  if (const FakeNames* names = rt.names(); names != nullptr && names->in_range(plain.address())) {
    if (auto named = names->endpoint_for(plain.address(), plain.port())) {
      return {Route::Kind::Proxy, *named, 0};
    }
    // A fake address we never handed out (or forgot): there is no name to send,
    // and connecting to it directly would leak; refuse.
    log::error("refusing {}: a remote-DNS address with no name behind it", plain);
    return {Route::Kind::Refuse, plain, EHOSTUNREACH};
  }
  // Loopback (when direct_loopback), and the user's direct rules.
  if (is_direct(rt.settings(), plain)) return {Route::Kind::Direct, plain, 0};
  return {Route::Kind::Proxy, plain, 0};
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
    return {Route::Kind::Refuse, plain, EACCES};
  }
  return route;
}

}  // namespace socksify
