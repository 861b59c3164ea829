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
#include "dns/name_table.hpp"

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

NameTable* name_table() noexcept {
  return Runtime::get().names();
}

void report_if_used_up(const NameTable& table, const char* node) noexcept {
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

bool resolves_locally(std::string_view name) noexcept {
  auto ep = Endpoint::name(name, 0);
  return ep && is_direct(Runtime::get().settings(), *ep);
}

Lookup lookup_policy(const char* node, const char* service, int ai_flags) noexcept {
  if (node == nullptr || *node == '\0' || (ai_flags & AI_NUMERICHOST) || is_numeric_host(node)) {
    return Lookup::Real;
  }
  const Runtime& rt = Runtime::get();
  if (!rt.configured()) {
    // We cannot tell whether names were meant for the proxy; a local lookup
    // could leak the name, so refuse all but the local host's own names.
    const std::string_view name(node);
    if (name == "localhost" || name.ends_with(".localhost")) return Lookup::Real;
    log::error("refusing to resolve {}: socksify is not configured ({})", name, rt.config_error());
    return Lookup::Refuse;
  }
  if (rt.names() == nullptr) return Lookup::Real;  // socks5://: local DNS, as asked
  auto ep = Endpoint::name(node, numeric_port(service));
  if (!ep) return Lookup::Fake;  // over-long: the fake resolver answers EAI_NONAME
  // localhost (with direct_loopback) and names the user sends direct.
  return is_direct(rt.settings(), *ep) ? Lookup::Real : Lookup::Fake;
}

}  // namespace socksify
