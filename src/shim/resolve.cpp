// The resolver calls. With remote DNS (socks5h) a name gets a stand-in address
// from the name table and no query leaves the machine; otherwise libc answers.
#include <netdb.h>

#include "core/errno_saver.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/resolve_policy.hpp"
#include "dns/fake_names.hpp"
#include "dns/fake_resolver.hpp"
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

SOCKSIFY_HOOK hostent* gethostbyname(const char* name) {
  switch (policy(name)) {
    case Lookup::Fake:
      return by_name(name, AF_INET);
    case Lookup::Refuse:
      h_errno = NO_RECOVERY;
      return nullptr;
    case Lookup::Real:
      break;
  }
  socksify::ReentryGuard guard;
  return REAL(gethostbyname)(name);
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
