// What glibc's resolver calls (res_query, res_search, res_querydomain, res_send
// and their res_n* forms) return when socksify answers them itself under
// remote DNS (issue 10 item 3). glibc sends those queries from inside libc,
// where LD_PRELOAD cannot see the socket calls, so the shim (shim/resolv.cpp)
// replaces the whole call: this file builds the question the call would have
// sent, has the DNS stub (dns_stub.hpp) answer it from an AddressSource, and
// returns the response with glibc's conventions, so a program cannot tell the
// answer did not come from a name server.
//
// glibc 2.36's conventions, followed here (resolv/res_query.c, res_send.c):
// - The return value is the response's length, -1 on failure; the cause is in
//   h_errno (and the resolver state's res_h_errno): HOST_NOT_FOUND for
//   NXDOMAIN, NO_DATA for an empty NOERROR, TRY_AGAIN for SERVFAIL or when the
//   query could not be sent, NO_RECOVERY for FORMERR/NOTIMP/REFUSED and for a
//   name no query can be built for.
// - An answer buffer smaller than the response receives its first anslen
//   bytes, with TC set in the copied header, and the call still returns the
//   full length (what res_send does for a TCP answer that does not fit; BIND's
//   documented contract: "the answer was truncated if the return value exceeds
//   anslen"). Our responses are small (one question, at most two address
//   records or one PTR), so this only bites a tiny buffer.
// - anslen below a DNS header (12 bytes): -1, errno EINVAL (res_send's check),
//   h_errno TRY_AGAIN (res_query's reaction to a failed send).
// - res_send returns any response, whatever its RCODE; it fails (-1) only when
//   nothing could answer: a buffer that is not a query (ECONNREFUSED, as glibc
//   when no server was reached) or one shorter than a header (EINVAL).
//
// Decisions:
// - res_search and res_nsearch look the name up once, as given (a trailing dot
//   removed), without the search list or HOSTALIASES: the fake table maps the
//   exact name the program asked for, as getaddrinfo does (fake_resolver.hpp),
//   and search domains describe the local network, not the proxy's; the proxy's
//   resolver applies its own. Every name has an address in the table, so
//   glibc's first try would have ended the search anyway for a name with
//   enough dots.
// - A name holding a backslash (an RFC 1035 §5.1 escape, e.g. "a\.b") is
//   NO_RECOVERY: the proxy could not be given such a label (a dotted name is
//   all SOCKS5 carries), as the stub answers NXDOMAIN to such a question.
// - class and type outside 0..65535: NO_RECOVERY (glibc would truncate them).
//
// Pure: no I/O, no allocation, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dns/dns_stub.hpp"

namespace socksify::dns {

// glibc's MAXDNAME (arpa/nameser.h): the longest name res_querydomain joins.
inline constexpr std::size_t kResolvMaxName = 1025;

// The name res_querydomain(name, domain) asks for: name alone when domain is
// null, else "name.domain", with glibc's length checks (__res_context_querydomain):
// false (NO_RECOVERY) when the result would not fit MAXDNAME, or name is empty
// and domain null. out must hold kResolvMaxName bytes; *size gets the length
// (no NUL written).
bool join_query_name(const char* name, const char* domain, std::span<char> out, std::size_t* size);

// A standard query (opcode QUERY, RD set, one question) for name (dotted, a
// trailing dot allowed) into out. Returns its size, 0 when no query can be
// built (empty label, label over 63 bytes, name over 255, a backslash, class
// or type out of range, out too small).
std::size_t build_query(std::span<std::byte> out, std::string_view name, int qclass, int qtype,
                        std::uint16_t id);

// Asks an upstream (dns_upstream, through the proxy) for what the table cannot
// answer: writes the response to query into out and returns its size, 0 when
// there is none. The shim passes null while no upstream is wired in: then such
// questions get NODATA (an empty NOERROR).
class Forwarder {
 public:
  virtual ~Forwarder() = default;
  virtual std::size_t forward(const Query& q, std::span<const std::byte> query,
                              std::span<std::byte> out) noexcept = 0;
};

struct ResolvOutcome {
  int length = -1;  // the return value: the response's full length, or -1
  int h_error = 0;  // for -1: the h_errno value (0 on success: leave h_errno)
  int error = 0;    // for -1: errno to set, 0 to leave errno alone
  // The source said the name is resolved locally (a direct rule, localhost):
  // the caller runs the real call instead.
  bool direct = false;
};

// The largest response the stub gives for one question (question echoed, at
// most two address records or one PTR, an OPT): callers size their stack
// buffer with it. A forwarded answer is written to the program's buffer.
inline constexpr std::size_t kResolvStackResponse = 1024;

// res_query / res_nquery (and res_search, res_querydomain after the name is
// chosen): the response to the question (name, qclass, qtype) in answer.
ResolvOutcome answer_res_query(std::string_view name, int qclass, int qtype, AddressSource& source,
                               const StubOptions& options, Forwarder* forwarder,
                               std::span<std::uint8_t> answer) noexcept;

// res_send / res_nsend: the response to a whole query message in answer.
ResolvOutcome answer_res_send(std::span<const std::uint8_t> query, AddressSource& source,
                              const StubOptions& options, Forwarder* forwarder,
                              std::span<std::uint8_t> answer) noexcept;

// res_query's verdict on a response it received (__res_context_query): 0 when
// it is an answer (NOERROR with records), else the h_errno value for it.
int h_errno_for_response(std::span<const std::uint8_t> response) noexcept;

}  // namespace socksify::dns
