// The resolver calls. With remote DNS (socks5h) a name gets a stand-in address
// from the name table and no query leaves the machine; otherwise libc answers.
#include <netdb.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <string>

#include "core/errno_saver.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/resolve_policy.hpp"
#include "dns/fake_names.hpp"
#include "dns/fake_resolver.hpp"
#include "dns/hosts_reverse.hpp"
#include "shim/export.hpp"

namespace {

using socksify::Lookup;

// Buffers for the non-reentrant calls, per thread like glibc's own.
thread_local socksify::FakeHostentStorage t_hostent;

Lookup policy(const char* node, const char* service = nullptr, int flags = 0) {
  if (socksify::ReentryGuard::active()) return Lookup::Real;
  return socksify::lookup_policy(node, service, flags);
}

hostent* by_name(const char* name, int af) {
  hostent* result = nullptr;
  int err = 0;
  const int rc = socksify::fake_gethostbyname_r(*socksify::name_table(), name, af, &t_hostent.ent,
                                                t_hostent.buf, sizeof t_hostent.buf, &result, &err);
  if (err == NO_RECOVERY) socksify::report_if_used_up(*socksify::name_table(), name);
  h_errno = err;
  return rc == 0 ? result : nullptr;
}

// The address bytes of an AF_INET/AF_INET6 address of full length (a
// v4-mapped IPv6 address as its IPv4 part, as glibc looks it up); empty otherwise.
std::span<const std::uint8_t> address_bytes(const sockaddr* sa, socklen_t salen) {
  if (sa == nullptr) return {};
  if (sa->sa_family == AF_INET && salen >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    return {reinterpret_cast<const std::uint8_t*>(&sin->sin_addr), 4};
  }
  if (sa->sa_family == AF_INET6 && salen >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) return {b + 12, 4};
    return {b, 16};
  }
  return {};
}

// The name the hosts file gives an address (dns/hosts_reverse.hpp), read
// afresh each time as glibc's files source does. Not a hot path: a reverse
// lookup that would otherwise have asked a name server.
std::optional<std::string> hosts_name(std::span<const std::uint8_t> addr) {
  socksify::ErrnoSaver keep;
  std::FILE* f = std::fopen("/etc/hosts", "re");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char chunk[4096];
  std::size_t n = 0;
  constexpr std::size_t kMaxHosts = std::size_t{16} << 20;  // bounded: a runaway file
  while (text.size() < kMaxHosts && (n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    text.append(chunk, n);
  }
  std::fclose(f);
  const auto name = socksify::hosts_name_for(text, addr);
  if (!name) return std::nullopt;
  return std::string(*name);
}

// getnameinfo of an address outside the fake ranges under remote DNS: glibc
// would ask the system's resolver for the PTR record (from inside libc, so
// nothing of ours would see the query). The hosts file alone answers; an
// address it does not list has no name, as when a resolver knows none.
int real_getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen, char* serv,
                     socklen_t servlen, int flags) {
  socksify::ReentryGuard guard;
  return REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
}

int getnameinfo_without_dns(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen,
                            char* serv, socklen_t servlen, int flags,
                            std::span<const std::uint8_t> addr) {
  // Flags glibc does not know: its EAI_BADFLAGS, given before any lookup.
  if (flags & ~0xFF) return real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
  std::optional<std::string> name;
  try {
    name = hosts_name(addr);
  } catch (const std::exception&) {
    return EAI_MEMORY;
  }
  if (!name) {
    if (flags & NI_NAMEREQD) return EAI_NONAME;
    return real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags | NI_NUMERICHOST);
  }
  if (name->size() + 1 > hostlen) return EAI_OVERFLOW;
  if (serv != nullptr && servlen > 0) {
    const int rc = real_getnameinfo(sa, salen, nullptr, 0, serv, servlen, flags);
    if (rc != 0) return rc;
  }
  std::memcpy(host, name->c_str(), name->size() + 1);
  return 0;
}

// gethostbyaddr of such an address: false (HOST_NOT_FOUND, nothing asked)
// when the hosts file does not list it; otherwise glibc answers, from the
// hosts file, which nsswitch.conf's "files" source reads before any "dns".
bool hosts_lists(const void* addr, socklen_t len, int type) {
  if (addr == nullptr) return true;  // glibc's own error
  if (!((type == AF_INET && len == 4) || (type == AF_INET6 && len == 16))) return true;
  const auto* b = static_cast<const std::uint8_t*>(addr);
  std::span<const std::uint8_t> bytes(b, static_cast<std::size_t>(len));
  if (type == AF_INET6 && IN6_IS_ADDR_V4MAPPED(static_cast<const in6_addr*>(addr))) {
    bytes = bytes.subspan(12);
  }
  try {
    return hosts_name(bytes).has_value();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

SOCKSIFY_HOOK int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                              addrinfo** res) {
  switch (policy(node, service, hints != nullptr ? hints->ai_flags : 0)) {
    case Lookup::Fake: {
      socksify::ErrnoSaver keep;
      const int rc = socksify::fake_getaddrinfo(*socksify::name_table(), node, service, hints, res);
      if (rc == EAI_FAIL) socksify::report_if_used_up(*socksify::name_table(), node);
      return rc;
    }
    case Lookup::Refuse:
      return EAI_FAIL;
    case Lookup::Real:
      break;
  }
  socksify::ReentryGuard guard;  // libc's own DNS traffic goes out untouched
  return REAL(getaddrinfo)(node, service, hints, res);
}

SOCKSIFY_HOOK void freeaddrinfo(addrinfo* ai) {
  if (socksify::is_fake_addrinfo(ai)) return socksify::fake_freeaddrinfo(ai);
  REAL(freeaddrinfo)(ai);
}

SOCKSIFY_HOOK hostent* gethostbyname2(const char* name, int af) {
  switch (policy(name)) {
    case Lookup::Fake:
      return by_name(name, af);
    case Lookup::Refuse:
      h_errno = NO_RECOVERY;
      return nullptr;
    case Lookup::Real:
      break;
  }
  socksify::ReentryGuard guard;
  return REAL(gethostbyname2)(name, af);
}

// gethostbyname2's IPv4 form, as gethostbyname_r below is gethostbyname2_r's.
SOCKSIFY_HOOK hostent* gethostbyname(const char* name) {
  if (policy(name) != Lookup::Real) return gethostbyname2(name, AF_INET);
  socksify::ReentryGuard guard;
  return REAL(gethostbyname)(name);
}

SOCKSIFY_HOOK int gethostbyname2_r(const char* name, int af, hostent* ret, char* buf, size_t buflen,
                                   hostent** result, int* h_errnop) {
  switch (policy(name)) {
    case Lookup::Fake: {
      int err = 0;
      const int rc = socksify::fake_gethostbyname_r(*socksify::name_table(), name, af, ret, buf,
                                                    buflen, result, &err);
      if (err == NO_RECOVERY) socksify::report_if_used_up(*socksify::name_table(), name);
      if (h_errnop != nullptr) *h_errnop = err;
      return rc;
    }
    case Lookup::Refuse:
      *result = nullptr;
      if (h_errnop != nullptr) *h_errnop = NO_RECOVERY;
      return EAGAIN;
    case Lookup::Real:
      break;
  }
  socksify::ReentryGuard guard;
  return REAL(gethostbyname2_r)(name, af, ret, buf, buflen, result, h_errnop);
}

SOCKSIFY_HOOK int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen,
                                  hostent** result, int* h_errnop) {
  if (policy(name) != Lookup::Real) {
    return gethostbyname2_r(name, AF_INET, ret, buf, buflen, result, h_errnop);
  }
  socksify::ReentryGuard guard;
  return REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
}

SOCKSIFY_HOOK int getnameinfo(const sockaddr* sa, socklen_t salen, char* host, socklen_t hostlen,
                              char* serv, socklen_t servlen, int flags) {
  if (!socksify::ReentryGuard::active()) {
    if (const socksify::FakeNames* table = socksify::name_table()) {
      bool handled = false;
      const int rc = socksify::fake_getnameinfo(*table, sa, salen, host, hostlen, serv, servlen,
                                                flags, &handled);
      if (handled) return rc;
      const auto addr = address_bytes(sa, salen);
      if (!addr.empty() && host != nullptr && hostlen > 0 && !(flags & NI_NUMERICHOST)) {
        return getnameinfo_without_dns(sa, salen, host, hostlen, serv, servlen, flags, addr);
      }
    }
  }
  socksify::ReentryGuard guard;
  return REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
}

SOCKSIFY_HOOK int gethostbyaddr_r(const void* addr, socklen_t len, int type, hostent* ret,
                                  char* buf, size_t buflen, hostent** result, int* h_errnop) {
  if (!socksify::ReentryGuard::active()) {
    if (const socksify::FakeNames* table = socksify::name_table()) {
      bool handled = false;
      const int rc = socksify::fake_gethostbyaddr_r(*table, addr, len, type, ret, buf, buflen,
                                                    result, h_errnop, &handled);
      if (handled) return rc;
      if (!hosts_lists(addr, len, type)) {
        if (result != nullptr) *result = nullptr;
        if (h_errnop != nullptr) *h_errnop = HOST_NOT_FOUND;
        h_errno = HOST_NOT_FOUND;  // as glibc's: Python, for one, reads it
        return 0;
      }
    }
  }
  socksify::ReentryGuard guard;
  return REAL(gethostbyaddr_r)(addr, len, type, ret, buf, buflen, result, h_errnop);
}

SOCKSIFY_HOOK hostent* gethostbyaddr(const void* addr, socklen_t len, int type) {
  if (!socksify::ReentryGuard::active()) {
    if (const socksify::FakeNames* table = socksify::name_table()) {
      bool handled = false;
      hostent* result = nullptr;
      int err = 0;
      socksify::fake_gethostbyaddr_r(*table, addr, len, type, &t_hostent.ent, t_hostent.buf,
                                     sizeof t_hostent.buf, &result, &err, &handled);
      if (handled) {
        h_errno = err;
        return result;
      }
      if (!hosts_lists(addr, len, type)) {
        h_errno = HOST_NOT_FOUND;
        return nullptr;
      }
    }
  }
  socksify::ReentryGuard guard;
  return REAL(gethostbyaddr)(addr, len, type);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(getaddrinfo)
SOCKSIFY_R_NAME(freeaddrinfo)
SOCKSIFY_R_NAME(getnameinfo)
SOCKSIFY_R_NAME(gethostbyname)
SOCKSIFY_R_NAME(gethostbyname2)
SOCKSIFY_R_NAME(gethostbyaddr)
