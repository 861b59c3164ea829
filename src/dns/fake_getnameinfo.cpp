// fake_getnameinfo: fake addresses back to names, without a PTR query.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "base/endpoint.hpp"
#include "dns/fake_resolver.hpp"

namespace socksify {

namespace {

// Every flag glibc 2.36 accepts: NI_NUMERICHOST .. NI_IDN and its two
// deprecated IDN flags (0x40, 0x80), which it ignores as we do.
constexpr int kKnownFlags = 0xff;

int copy_out(std::string_view text, char* out, socklen_t outlen) {
  if (text.size() + 1 > static_cast<std::size_t>(outlen)) return EAI_OVERFLOW;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return 0;
}

// An AF_INET/AF_INET6 address and port, and an IPv6 scope id (0 for IPv4).
struct Query {
  Endpoint ep;
  std::uint32_t scope_id;

  int family() const { return ep.kind() == Endpoint::Kind::IPv4 ? AF_INET : AF_INET6; }
};

// The address in sa when it is a whole sockaddr_in or sockaddr_in6.
std::optional<Query> read_sockaddr(const sockaddr* sa, socklen_t salen) {
  const auto ep = Endpoint::from_sockaddr(sa, salen);
  if (!ep) return std::nullopt;
  Query q{*ep, 0};
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    q.scope_id = in6.sin6_scope_id;
  }
  return q;
}

int numeric_host(const Query& q, char* host, socklen_t hostlen) {
  // An IPv6 text form, '%', and a 10-digit scope id.
  char text[INET6_ADDRSTRLEN + 12] = {};
  if (inet_ntop(q.family(), q.ep.address().data(), text, sizeof text) == nullptr) return EAI_FAIL;
  std::size_t len = std::strlen(text);
  if (q.scope_id != 0) {
    // As glibc for a scope that is not link-local: the number (the fake
    // ranges are never link-local, so no interface name applies).
    text[len++] = '%';
    len = static_cast<std::size_t>(std::to_chars(text + len, text + sizeof text, q.scope_id).ptr -
                                   text);
  }
  return copy_out({text, len}, host, hostlen);
}

int host_part(const FakeNames& table, const Query& q, char* host, socklen_t hostlen, int flags) {
  if (flags & NI_NUMERICHOST) {
    // glibc: a name is required but may not be looked up.
    if (flags & NI_NAMEREQD) return EAI_NONAME;
    return numeric_host(q, host, hostlen);
  }
  const auto ep = table.endpoint_for(q.ep.address(), q.ep.port());
  if (ep) return copy_out(ep->host_name(), host, hostlen);
  // In range but unassigned (or forgotten): like a failed PTR lookup.
  if (flags & NI_NAMEREQD) return EAI_NONAME;
  return numeric_host(q, host, hostlen);
}

int service_part(const Query& q, char* serv, socklen_t servlen, int flags,
                 const ServiceDb& services) {
  if (!(flags & NI_NUMERICSERV) && services.name_of != nullptr) {
    const char* proto = (flags & NI_DGRAM) ? "udp" : "tcp";
    const int len = services.name_of(q.ep.port(), proto, std::span<char>(serv, servlen));
    if (len >= 0) return static_cast<socklen_t>(len) < servlen ? 0 : EAI_OVERFLOW;
  }
  char digits[8];
  const auto end = std::to_chars(digits, digits + sizeof digits, q.ep.port()).ptr;
  return copy_out({digits, static_cast<std::size_t>(end - digits)}, serv, servlen);
}

}  // namespace

int fake_getnameinfo(const FakeNames& table, const sockaddr* sa, socklen_t salen, char* host,
                     socklen_t hostlen, char* serv, socklen_t servlen, int flags, bool* handled,
                     const ServiceDb& services) noexcept {
  bool ignored = false;
  if (handled == nullptr) handled = &ignored;
  *handled = false;
  const auto q = read_sockaddr(sa, salen);
  if (!q || !table.in_range(q->ep.address())) return 0;

  *handled = true;
  if (flags & ~kKnownFlags) return EAI_BADFLAGS;
  if (host != nullptr && hostlen > 0) {
    if (int rc = host_part(table, *q, host, hostlen, flags); rc != 0) return rc;
  }
  if (serv != nullptr && servlen > 0) {
    if (int rc = service_part(*q, serv, servlen, flags, services); rc != 0) return rc;
  }
  return 0;
}

}  // namespace socksify
