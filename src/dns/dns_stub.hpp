// The DNS stub: what socksify answers to a DNS query that a program of the tree
// sends itself to a system resolver (a resolv.conf nameserver, 127.0.0.53), so
// that under remote DNS no query reaches those resolvers (issue 10 item 2):
// A and AAAA get the fake addresses of the name table, a PTR of a fake address
// gets the name behind it, and every other question gets either an empty
// NOERROR answer (NODATA) or a "forward" decision, when an upstream is
// configured, for the caller to send it through the proxy over TCP.
//
// Pure: the table is reached only through AddressSource, so the tree-wide table
// can replace today's per-process NameTable without touching this file, and
// tests can feed any answer. No I/O, no allocation here, no exceptions out.
//
// Decisions (each answer is one a stub resolver accepts; see the tests):
// - TTL kFakeTtl (10 s) on every fake record. A fake address means its name only
//   while the table holds the name (LRU reuse, name_table.hpp); a short TTL
//   bounds how long a cache outside the table (the program's own, Chromium's
//   host cache, nscd) may keep a mapping the table has since given away, and
//   asking again costs a table lookup, microseconds. Not 0: a zero TTL makes a
//   caching resolver ask again on every use; 10 s absorbs a burst of lookups of
//   one name.
// - NODATA carries no SOA, so resolvers do not cache it (RFC 2308 §5): the next
//   query for that name and type is asked afresh.
// - A name that has no dotted form (a label with '.', space or a control byte)
//   is NXDOMAIN: no proxy could resolve it. The root name is NODATA.
// - Class other than IN (CHAOS "version.bind" and the like): REFUSED. Zone
//   transfers (AXFR, IXFR): REFUSED. ANY: the A and AAAA records (RFC 8482 §4.2
//   lets a responder return a subset).
// - A PTR of an address inside the fake ranges that holds no name: NXDOMAIN
//   (the table is the only authority over those ranges, it is never forwarded).
//   A PTR of any other address is an "other type".
// - Which names are for the proxy stays the source's call: it may say Direct
//   (localhost, a direct rule) and the caller then lets the query through to
//   the resolver the program chose, as getaddrinfo does for those names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dns/dns_message.hpp"

namespace socksify::dns {

inline constexpr std::uint32_t kFakeTtl = 10;  // seconds, see above

// Where the stub gets its answers: the remote-DNS name table, or a test double.
class AddressSource {
 public:
  enum class Status : std::uint8_t {
    Found,        // out holds the address / the name's length is returned
    NoAddress,    // the name exists but has no address of this family: NODATA
    NotFake,      // name_for: the address is outside the fake ranges
    NoName,       // name_for: a fake address that no name holds: NXDOMAIN
    Unavailable,  // the table cannot answer (full, no memory): SERVFAIL
    // address_for: the name is not for the proxy (localhost with
    // direct_loopback, a direct rule): StubAction::Direct.
    Direct,
  };

  virtual ~AddressSource() = default;

  // The fake address of name (dotted, no trailing dot, case as the query had
  // it) for family AF_INET (out is 4 bytes) or AF_INET6 (16 bytes), allocating
  // one if needed: Found, NoAddress, Unavailable or Direct. Must not throw.
  virtual Status address_for(std::string_view name, int family,
                             std::span<std::uint8_t> out) noexcept = 0;

  // The name behind addr (4 or 16 bytes), written to out without a trailing
  // dot, its length in *size: Found, NotFake, NoName or Unavailable (out too
  // small). Must not throw.
  virtual Status name_for(std::span<const std::uint8_t> addr, std::span<char> out,
                          std::size_t* size) noexcept = 0;
};

struct StubOptions {
  // True when a dns_upstream is configured: questions the stub does not answer
  // itself are forwarded; false answers them with NODATA.
  bool forward_other_types = false;
  std::uint32_t ttl = kFakeTtl;
};

enum class StubAction : std::uint8_t {
  Reply,    // out holds the response (size bytes)
  Forward,  // send the query to the upstream (and build_truncated() if its
            // answer exceeds the UDP limit)
  Drop,     // no answer is possible: shorter than a header, or a response
  Direct,   // the source said the name is resolved locally (a direct rule):
            // the caller lets the query reach the resolver the program chose
};

struct StubOutcome {
  StubAction action = StubAction::Drop;
  std::size_t size = 0;
  Rcode rcode = Rcode::NoError;  // Reply: what the response said
};

// Answers a parsed query into out, within max_size bytes (udp_response_limit(q)
// or kMaxMessage over TCP). A Reply whose response cannot fit even truncated
// becomes Drop.
StubOutcome answer_query(const Query& q, AddressSource& source, const StubOptions& options,
                         std::span<std::byte> out, std::size_t max_size) noexcept;

// One UDP datagram in, one response out (within the query's UDP limit).
StubOutcome answer_udp(std::span<const std::byte> datagram, AddressSource& source,
                       const StubOptions& options, std::span<std::byte> out) noexcept;

// One message of a TCP stream (a message already taken out of its frame by
// next_tcp_frame) in; out receives the 2-byte length prefix and the response,
// size counts both.
StubOutcome answer_tcp(std::span<const std::byte> message, AddressSource& source,
                       const StubOptions& options, std::span<std::byte> out) noexcept;

// The address a reverse name stands for: "d.c.b.a.in-addr.arpa" (4 bytes) or
// the 32 nibbles of "....ip6.arpa" (16 bytes), any case, no trailing dot.
// Partial names (a reverse zone, not an address) give nullopt.
struct ReverseAddress {
  std::uint8_t bytes[16] = {};
  std::uint8_t size = 0;  // 4 or 16
  std::span<const std::uint8_t> view() const { return {bytes, size}; }
};
std::optional<ReverseAddress> parse_reverse_name(std::string_view name);

}  // namespace socksify::dns
