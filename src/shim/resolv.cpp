// glibc's DNS query calls: res_query, res_search, res_querydomain, res_send and
// their res_n* forms (libc since glibc 2.34), under the names programs bind to:
// res_query@@GLIBC_2.34 for programs built since, __res_query@GLIBC_2.2.5 for
// older ones (their resolv.h renamed the calls), and libresolv's
// res_gethostbyname/res_gethostbyname2/res_gethostbyaddr compatibility
// entry points. glibc sends these queries with libc-internal socket calls
// LD_PRELOAD cannot see, so under remote DNS the whole call is replaced: the
// DNS stub answers from the name table (dns/resolv_answer.hpp) and nothing
// leaves the machine. With local DNS (socks5://) the originals run.
//
// <resolv.h> is not included: it declares these calls __THROW (noexcept in
// C++), and a noexcept hook would turn the forced unwind of a pthread_cancel
// inside the real call (its poll() is a cancellation point) into
// std::terminate. The state's layout comes from glibc's own header for it.
#include <bits/types/res_state.h>
#include <cxxabi.h>
#include <errno.h>
#include <netdb.h>

#include <atomic>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/dns_upstream.hpp"
#include "core/errno_saver.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/resolve_policy.hpp"
#include "dns/dns_message.hpp"
#include "dns/name_table.hpp"
#include "dns/name_table_source.hpp"
#include "dns/resolv_answer.hpp"
#include "shim/export.hpp"

// The calling thread's state (_res), as <resolv.h> declares it; the function
// and the struct share a name, which -Wshadow reports.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
extern "C" struct __res_state* __res_state(void);
#pragma GCC diagnostic pop

namespace {

using socksify::Lookup;
using socksify::dns::AddressSource;
using socksify::dns::ResolvOutcome;
using res_state_t = struct __res_state*;

// Another exported name for a hook (glibc's pre-2.34 __res_* names).
#define SOCKSIFY_ALIAS(hook, name) \
  extern "C" __attribute__((visibility("default"), alias(#hook), copy(hook))) decltype(hook) name;

// The remote-DNS table, except that a name that is not for the proxy
// (localhost, a direct rule) is Direct: its query goes to the program's own
// resolver, as getaddrinfo() of it would.
class ResolverSource final : public AddressSource {
 public:
  explicit ResolverSource(socksify::FakeNames& table) : table_(table) {}
  Status address_for(std::string_view name, int family,
                     std::span<std::uint8_t> out) noexcept override {
    if (socksify::resolves_locally(name)) return Status::Direct;
    return table_.address_for(name, family, out);
  }
  Status name_for(std::span<const std::uint8_t> addr, std::span<char> out,
                  std::size_t* size) noexcept override {
    return table_.name_for(addr, out, size);
  }

 private:
  socksify::dns::NameTableSource table_;
};

// THE place that decides what questions the table cannot answer (MX, SRV,
// TXT, a PTR of a real address) get: with a dns_upstream configured, its
// answer, asked over TCP through the proxy (core/dns_upstream.hpp); without,
// NODATA, an empty NOERROR, which res_query reports as NO_DATA and apt, for
// one, takes as "no SRV record".
struct OtherTypes {
  socksify::dns::StubOptions options;
  socksify::dns::Forwarder* forwarder = nullptr;
};
OtherTypes other_types() noexcept {
  OtherTypes other;
  other.forwarder = socksify::dns_upstream_forwarder();
  other.options.forward_other_types = other.forwarder != nullptr;
  return other;
}

void set_h_errno(res_state_t statp, int value) {
  if (statp != nullptr) statp->res_h_errno = value;
  h_errno = value;
}

// Runs f with errno kept and no C++ exception leaving (a forced unwind goes
// on, as in guarded()).
template <class F>
ResolvOutcome protect(F&& f) {
  socksify::ErrnoSaver keep;
  try {
    return f();
  } catch (...) {
    if (abi::__cxa_current_exception_type() == nullptr) throw;
    return ResolvOutcome{-1, NETDB_INTERNAL, ENOMEM, false};
  }
}

// The C return of an outcome: h_errno and errno as the outcome says.
int finish(res_state_t statp, const ResolvOutcome& r) {
  if (r.length >= 0) return r.length;
  if (r.h_error != 0) set_h_errno(statp, r.h_error);
  if (r.error != 0) errno = r.error;
  return -1;
}

// res_query and friends for one chosen name: the answer, or direct = true for
// the caller to run the real call.
ResolvOutcome query_name(std::string_view name, int qclass, int qtype, unsigned char* answer,
                         int anslen) {
  return protect([&] {
    socksify::FakeNames* table = socksify::name_table();
    if (table == nullptr) return ResolvOutcome{-1, NO_RECOVERY, 0, false};
    ResolverSource source(*table);
    const OtherTypes other = other_types();
    const std::span<std::uint8_t> buf(answer, anslen > 0 ? static_cast<std::size_t>(anslen) : 0);
    ResolvOutcome r = socksify::dns::answer_res_query(name, qclass, qtype, source, other.options,
                                                      other.forwarder, buf);
    if (r.h_error == TRY_AGAIN && r.error == 0) {
      socksify::report_if_used_up(*table, std::string(name).c_str());
    }
    return r;
  });
}

ResolvOutcome send_message(const unsigned char* msg, int msglen, unsigned char* answer,
                           int anslen) {
  return protect([&] {
    socksify::FakeNames* table = socksify::name_table();
    if (table == nullptr) return ResolvOutcome{-1, 0, ECONNREFUSED, false};
    ResolverSource source(*table);
    const OtherTypes other = other_types();
    const std::span<const std::uint8_t> query(msg,
                                              msglen > 0 ? static_cast<std::size_t>(msglen) : 0);
    const std::span<std::uint8_t> buf(answer, anslen > 0 ? static_cast<std::size_t>(anslen) : 0);
    return socksify::dns::answer_res_send(query, source, other.options, other.forwarder, buf);
  });
}

// A question about a name the user resolves locally (localhost with
// direct_loopback, a direct rule), of any type: the program's own resolver
// answers it, as getaddrinfo() of that name would be answered. (The stub's
// Direct covers only the address types; an MX of a direct name belongs there
// too.) A trailing dot does not make another name.
bool goes_direct(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return !name.empty() && socksify::resolves_locally(name);
}

// From the helpers below: run the real call (local DNS, a direct name).
constexpr int kRunReal = -2;

// Refused (broken configuration): what a resolver with no usable server gives.
int refused(res_state_t statp) {
  set_h_errno(statp, NO_RECOVERY);
  return -1;
}

// What the policy leaves a res_* helper to do: nullopt when socksify answers
// (remote DNS), else the hook's return: refusal() for a broken configuration,
// kRunReal for local DNS.
template <typename Refusal>
std::optional<int> unless_answered(Refusal refusal) {
  switch (socksify::resolver_call_policy()) {
    case Lookup::Refuse:
      return refusal();
    case Lookup::Real:
      return kRunReal;
    case Lookup::Fake:
      break;
  }
  return std::nullopt;
}

int nquery(res_state_t statp, const char* name, int qclass, int qtype, unsigned char* answer,
           int anslen, bool search) {
  if (const auto rc = unless_answered([&] { return refused(statp); })) return *rc;
  if (search) errno = 0;  // res_search does so before its first query
  if (name == nullptr) return refused(statp);
  if (goes_direct(name)) return kRunReal;
  const ResolvOutcome r = query_name(name, qclass, qtype, answer, anslen);
  return r.direct ? kRunReal : finish(statp, r);
}

int nquerydomain(res_state_t statp, const char* name, const char* domain, int qclass, int qtype,
                 unsigned char* answer, int anslen) {
  if (const auto rc = unless_answered([&] { return refused(statp); })) return *rc;
  char joined[socksify::dns::kResolvMaxName];
  std::size_t size = 0;
  if (!socksify::dns::join_query_name(name, domain, joined, &size)) return refused(statp);
  const std::string_view full(joined, size);
  if (goes_direct(full)) return kRunReal;
  const ResolvOutcome r = query_name(full, qclass, qtype, answer, anslen);
  return r.direct ? kRunReal : finish(statp, r);
}

int nsend(const unsigned char* msg, int msglen, unsigned char* answer, int anslen) {
  if (const auto rc = unless_answered([] {
        errno = ECONNREFUSED;
        return -1;
      })) {
    return *rc;
  }
  if (msg != nullptr && msglen > 0) {
    const auto q =
        socksify::dns::parse_query(std::as_bytes(std::span(msg, static_cast<std::size_t>(msglen))));
    if (q.status == socksify::dns::QueryStatus::Ok && q.question.text_ok &&
        goes_direct(q.question.name())) {
      return kRunReal;
    }
  }
  const ResolvOutcome r = send_message(msg, msglen, answer, anslen);
  return r.direct ? kRunReal : finish(nullptr, r);
}

// A libresolv entry point called (through our name) in a process that never
// loaded libresolv: no resolver to ask.
hostent* no_libresolv() {
  h_errno = NO_RECOVERY;
  return nullptr;
}

// libresolv's res_gethostbyname family: ours (the gethostbyname family's
// R-name) under remote DNS, else the real one, looked up (real()) only then.
template <typename Ours, typename LookUpReal, typename... Args>
hostent* ours_or_libresolv(Ours ours, LookUpReal real, Args... args) {
  if (socksify::resolver_call_policy() != Lookup::Real) return ours(args...);
  socksify::ReentryGuard guard;
  auto* fn = real();
  return fn != nullptr ? fn(args...) : no_libresolv();
}

// What every res_* hook returns: the stub's answer (rc), or, for kRunReal, the
// original call, run with our hooks off. The original is looked up only then.
template <typename RunReal>
int answered_or_real(int rc, RunReal run_real) {
  if (rc != kRunReal) return rc;
  socksify::ReentryGuard guard;
  return run_real();
}

}  // namespace

// Declared here, not by <resolv.h> (see the top of the file).
extern "C" {
int res_query(const char*, int, int, unsigned char*, int);
int res_search(const char*, int, int, unsigned char*, int);
int res_querydomain(const char*, const char*, int, int, unsigned char*, int);
int res_send(const unsigned char*, int, unsigned char*, int);
int res_nquery(res_state_t, const char*, int, int, unsigned char*, int);
int res_nsearch(res_state_t, const char*, int, int, unsigned char*, int);
int res_nquerydomain(res_state_t, const char*, const char*, int, int, unsigned char*, int);
int res_nsend(res_state_t, const unsigned char*, int, unsigned char*, int);
hostent* res_gethostbyname(const char*);
hostent* res_gethostbyname2(const char*, int);
hostent* res_gethostbyaddr(const void*, socklen_t, int);
}

// res_query and res_search, each with its res_n form: alike but for nquery's
// search flag and the real function each ends in.
#define SOCKSIFY_QUERY_HOOKS(WHAT, SEARCH)                                                     \
  SOCKSIFY_HOOK int res_##WHAT(const char* name, int qclass, int qtype, unsigned char* answer, \
                               int anslen) {                                                   \
    return answered_or_real(                                                                   \
        nquery(__res_state(), name, qclass, qtype, answer, anslen, SEARCH),                    \
        [&] { return REAL_LAZY(res_##WHAT)(name, qclass, qtype, answer, anslen); });           \
  }                                                                                            \
  SOCKSIFY_ALIAS(res_##WHAT, __res_##WHAT)                                                     \
  SOCKSIFY_HOOK int res_n##WHAT(res_state_t statp, const char* name, int qclass, int qtype,    \
                                unsigned char* answer, int anslen) {                           \
    return answered_or_real(nquery(statp, name, qclass, qtype, answer, anslen, SEARCH), [&] {  \
      return REAL_LAZY(res_n##WHAT)(statp, name, qclass, qtype, answer, anslen);               \
    });                                                                                        \
  }                                                                                            \
  SOCKSIFY_ALIAS(res_n##WHAT, __res_n##WHAT)
SOCKSIFY_QUERY_HOOKS(query, false)
SOCKSIFY_QUERY_HOOKS(search, true)
#undef SOCKSIFY_QUERY_HOOKS

SOCKSIFY_HOOK int res_querydomain(const char* name, const char* domain, int qclass, int qtype,
                                  unsigned char* answer, int anslen) {
  const int rc = nquerydomain(__res_state(), name, domain, qclass, qtype, answer, anslen);
  return answered_or_real(
      rc, [&] { return REAL_LAZY(res_querydomain)(name, domain, qclass, qtype, answer, anslen); });
}
SOCKSIFY_ALIAS(res_querydomain, __res_querydomain)

SOCKSIFY_HOOK int res_nquerydomain(res_state_t statp, const char* name, const char* domain,
                                   int qclass, int qtype, unsigned char* answer, int anslen) {
  return answered_or_real(nquerydomain(statp, name, domain, qclass, qtype, answer, anslen), [&] {
    return REAL_LAZY(res_nquerydomain)(statp, name, domain, qclass, qtype, answer, anslen);
  });
}
SOCKSIFY_ALIAS(res_nquerydomain, __res_nquerydomain)

SOCKSIFY_HOOK int res_send(const unsigned char* msg, int msglen, unsigned char* answer,
                           int anslen) {
  return answered_or_real(nsend(msg, msglen, answer, anslen),
                          [&] { return REAL_LAZY(res_send)(msg, msglen, answer, anslen); });
}
SOCKSIFY_ALIAS(res_send, __res_send)

SOCKSIFY_HOOK int res_nsend(res_state_t statp, const unsigned char* msg, int msglen,
                            unsigned char* answer, int anslen) {
  return answered_or_real(nsend(msg, msglen, answer, anslen),
                          [&] { return REAL_LAZY(res_nsend)(statp, msg, msglen, answer, anslen); });
}
SOCKSIFY_ALIAS(res_nsend, __res_nsend)

// libresolv's compatibility entry points (GLIBC_2.2.5 only: binaries linked
// against an old glibc): a DNS-only gethostbyname. Under remote DNS they are
// our gethostbyname family (shim/resolve.cpp), which also sends localhost and
// direct names to libc.
SOCKSIFY_HOOK hostent* res_gethostbyname(const char* name) {
  return ours_or_libresolv(
      Rgethostbyname, [] { return REAL_LAZY(res_gethostbyname); }, name);
}

SOCKSIFY_HOOK hostent* res_gethostbyname2(const char* name, int af) {
  return ours_or_libresolv(
      Rgethostbyname2, [] { return REAL_LAZY(res_gethostbyname2); }, name, af);
}

SOCKSIFY_HOOK hostent* res_gethostbyaddr(const void* addr, socklen_t len, int af) {
  return ours_or_libresolv(
      Rgethostbyaddr, [] { return REAL_LAZY(res_gethostbyaddr); }, addr, len, af);
}
