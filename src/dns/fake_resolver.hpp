// The fake resolver: what the interposed getaddrinfo, gethostbyname(2)(_r),
// getnameinfo and gethostbyaddr(_r) answer when remote DNS is on. Names get
// addresses from a name table (FakeNames: in the library the process's
// TreeNames, core/tree_names.hpp, i.e. the launcher's tree-wide table or the
// process's own) instead of from DNS, so no query leaves the machine, and the
// proxy later receives the name itself (RFC 1928 §5, ATYP 3).
//
// Pure but for system_services() (the NSS services files, never DNS): no socket,
// no DNS query. lookup_policy() (core/resolve_policy.hpp) decides *whether* to
// come here: Fake when remote DNS is on and the node is a name (not NULL or
// empty, not numeric, no AI_NUMERICHOST, not sent direct by a rule or as
// localhost); Refuse when the configuration is broken (fail closed); else Real.
// These functions decide *what* the answer is, with glibc's return
// conventions, so each hook in shim/resolve.cpp stays a few lines:
//
//   int getaddrinfo(node, service, hints, res) {
//     switch (policy(node, service, hints ? hints->ai_flags : 0)) {
//       case Lookup::Fake: return fake_getaddrinfo(*name_table(), node, service, hints, res);
//       case Lookup::Refuse: return EAI_FAIL;
//       case Lookup::Real: break;
//     }
//     return REAL(getaddrinfo)(node, service, hints, res);
//   }
//   void freeaddrinfo(ai) { is_fake_addrinfo(ai) ? fake_freeaddrinfo(ai) : REAL(freeaddrinfo)(ai);
//   }
//
// Every function is noexcept: they run under extern "C" hooks. Memory
// exhaustion becomes EAI_MEMORY (getaddrinfo) or ENOMEM (the hostent family).
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/endpoint.hpp"
#include "dns/fake_names.hpp"

namespace socksify {

// The services database (service name <-> port), injectable so that tests need
// no /etc/services and the shim can use the system's.
struct ServiceDb {
  // The port (host byte order) of service `name` over protocol `proto` ("tcp"
  // or "udp"); nullopt when unknown.
  std::optional<std::uint16_t> (*port_of)(const char* name, const char* proto) noexcept;
  // Writes the name of the service on `port` over `proto` to out, NUL-terminated,
  // if it fits; returns its length without the NUL (so a result >= out.size()
  // means it did not fit), or -1 when the port has no name.
  int (*name_of)(std::uint16_t port, const char* proto, std::span<char> out) noexcept;
};

// getservbyname_r / getservbyport_r: the NSS "services" database, which is
// files (or a local db), never DNS.
const ServiceDb& system_services() noexcept;

// ---- getaddrinfo -------------------------------------------------------------

// getaddrinfo() for a host *name*, returning 0 or an EAI_* code as glibc does.
//
// Families: AF_INET gives the IPv4 fake address; AF_INET6 the IPv6 one (with
// AI_V4MAPPED|AI_ALL also the v4-mapped IPv4 one after it; AI_V4MAPPED alone
// maps only when no IPv6 range is configured); AF_UNSPEC gives one address,
// IPv4 (IPv6 only without an IPv4 range). One, because both would lead to the
// same name at the same proxy: a program trying the second after the first
// failed (curl, happy eyeballs) would only repeat the failure, doubling the
// wait on a silent proxy and the error lines. IPv4 because an AF_INET socket
// works on every host (the shim swaps it for an IPv6 one if the proxy needs
// that), while IPv6 may be disabled. AI_ADDRCONFIG is ignored: local interfaces say nothing
// about what the proxy can reach, and in a namespace with only loopback (proxy
// on 127.0.0.1) honouring it would hide every address.
//
// Socket types follow glibc: with socktype and protocol 0, one entry per
// address for each of SOCK_STREAM/TCP, SOCK_DGRAM/UDP and SOCK_RAW (RAW only
// for a numeric or absent service); otherwise the one type that matches
// (also DCCP, UDP-Lite, SCTP), EAI_SOCKTYPE when none does.
// Services: decimal 0..65535 (EAI_SERVICE above, where glibc silently wraps),
// "" is port 0, other text is looked up in `services` per protocol (entries
// whose protocol lacks it are left out; EAI_SERVICE when none has it);
// AI_NUMERICSERV refuses names with EAI_NONAME.
// AI_CANONNAME puts the name, as given, in the first entry. ai_flags of each
// entry echo the hints' flags (AI_V4MAPPED|AI_ADDRCONFIG for hints == NULL).
// Errors: EAI_BADFLAGS, EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE; EAI_NONAME for
// a NULL, empty, over-long (> 255) or unprintable name and for AI_NUMERICHOST;
// EAI_NODATA for AF_INET(6) without a range of that family; EAI_FAIL when the
// table has no capacity; EAI_MEMORY.
//
// The list is built like glibc's (one malloc per entry holding its sockaddr,
// canonname malloc'ed apart), so both fake_freeaddrinfo and libc's
// freeaddrinfo can free it, even after a program reordered the entries.
int fake_getaddrinfo(FakeNames& table, const char* node, const char* service, const addrinfo* hints,
                     addrinfo** res, const ServiceDb& services = system_services()) noexcept;

// Frees a list from fake_getaddrinfo (NULL is fine).
void fake_freeaddrinfo(addrinfo* ai) noexcept;

// True when ai is an entry of a list from fake_getaddrinfo (the hook passes
// the head). Reads only ai's own fields unless they show our layout, so it is
// safe on any list from libc, also under a sanitizer.
bool is_fake_addrinfo(const addrinfo* ai) noexcept;

// ---- gethostbyname family ------------------------------------------------------

// gethostbyname2_r() for a host name, with glibc's conventions: returns 0 and
// sets *result on success; returns 0 with *result = NULL and *h_errnop =
// HOST_NOT_FOUND (bad name) or NO_DATA (no range of family af); returns ERANGE
// (h_errno NETDB_INTERNAL) when buf is too small, so the caller can retry with
// a larger one, and without touching the table; EAFNOSUPPORT for af other than
// AF_INET/AF_INET6; ENOMEM on memory exhaustion. The hostent has the name as
// given, no aliases and one address. gethostbyname_r is af = AF_INET.
int fake_gethostbyname_r(FakeNames& table, const char* name, int af, hostent* ret, char* buf,
                         std::size_t buflen, hostent** result, int* h_errnop) noexcept;

// A buffer that always suffices for one fake hostent (the longest name, an
// IPv6 address, the pointer arrays), when aligned like FakeHostentStorage::buf.
inline constexpr std::size_t kFakeHostentBufferSize =
    3 * sizeof(char*) + 16 + Endpoint::kMaxNameLength + 1;

// What the non-reentrant gethostbyname, gethostbyname2 and gethostbyaddr return
// into. The shim keeps one per thread (a static thread_local, so it never
// allocates) and calls the _r functions with &ent, buf, sizeof buf; they never
// return ERANGE for it.
struct FakeHostentStorage {
  hostent ent;
  alignas(char*) char buf[kFakeHostentBufferSize];
};

// ---- reverse -------------------------------------------------------------------

// getnameinfo() for fake addresses. Sets *handled = false, and returns 0 to be
// ignored, when sa is not an AF_INET/AF_INET6 address of full length inside the
// table's ranges: the shim then calls libc. Otherwise *handled = true and it
// returns what glibc would for a host with that name: the name (or, when the
// address is unassigned, the numeric form, or EAI_NONAME with NI_NAMEREQD);
// the numeric fake address for NI_NUMERICHOST (EAI_NONAME together with
// NI_NAMEREQD, as glibc); the service by name via `services` (udp with
// NI_DGRAM) or numerically; EAI_OVERFLOW when host or serv is too small;
// EAI_BADFLAGS for unknown flags. A NULL or zero-length host or serv is not
// asked for. NI_NOFQDN changes nothing (the names are not local).
int fake_getnameinfo(const FakeNames& table, const sockaddr* sa, socklen_t salen, char* host,
                     socklen_t hostlen, char* serv, socklen_t servlen, int flags, bool* handled,
                     const ServiceDb& services = system_services()) noexcept;

// gethostbyaddr_r() for fake addresses. *handled = false (return 0, ignore)
// unless (type, len) is (AF_INET, 4) or (AF_INET6, 16) and addr is in range.
// Handled: the name with the queried address, HOST_NOT_FOUND for an unassigned
// address (no PTR query leaves the machine for the fake ranges), ERANGE as in
// fake_gethostbyname_r.
int fake_gethostbyaddr_r(const FakeNames& table, const void* addr, socklen_t len, int type,
                         hostent* ret, char* buf, std::size_t buflen, hostent** result,
                         int* h_errnop, bool* handled) noexcept;

}  // namespace socksify
