// DNS message codec (RFC 1035 §4, EDNS0 RFC 6891): parses the queries a program
// sends to its resolvers and writes the responses socksify gives back.
//
// Why it exists: under remote DNS, the queries a program sends itself to the
// system's resolvers (its own resolver, c-ares, dig, Chromium's, glibc's
// res_query) must never leave the machine; socksify answers them from the name
// table instead (issue 10 item 2). This file owns the bytes only; dns_stub.hpp
// decides what the answer says.
//
// Pure: no I/O, no allocation, no exceptions, no errno. Every read and write is
// bounds-checked against the span it is given, so hostile bytes can at worst
// produce a FORMERR or nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace socksify::dns {

inline constexpr std::size_t kHeaderSize = 12;     // RFC 1035 §4.1.1
inline constexpr std::size_t kMaxLabel = 63;       // RFC 1035 §2.3.4
inline constexpr std::size_t kMaxNameWire = 255;   // RFC 1035 §2.3.4, wire form with root
inline constexpr std::size_t kMaxNameText = 253;   // dotted, without the trailing dot
inline constexpr std::size_t kMaxUdpPlain = 512;   // RFC 1035 §4.2.1: UDP without EDNS
inline constexpr std::size_t kMaxMessage = 65535;  // RFC 1035 §4.2.2: TCP length field
// The UDP payload size our OPT record advertises: the DNS Flag Day 2020 value,
// chosen there to avoid IP fragmentation on common paths.
inline constexpr std::uint16_t kOurUdpPayload = 1232;

// RR types and classes we treat specially (RFC 1035 §3.2.2, RFC 3596, RFC 2782,
// RFC 6891, RFC 9460). Kept as plain numbers: any other value is legal too.
namespace type {
inline constexpr std::uint16_t A = 1;
inline constexpr std::uint16_t NS = 2;
inline constexpr std::uint16_t CNAME = 5;
inline constexpr std::uint16_t SOA = 6;
inline constexpr std::uint16_t PTR = 12;
inline constexpr std::uint16_t MX = 15;
inline constexpr std::uint16_t TXT = 16;
inline constexpr std::uint16_t AAAA = 28;
inline constexpr std::uint16_t SRV = 33;
inline constexpr std::uint16_t OPT = 41;
inline constexpr std::uint16_t SVCB = 64;
inline constexpr std::uint16_t HTTPS = 65;
inline constexpr std::uint16_t IXFR = 251;
inline constexpr std::uint16_t AXFR = 252;
inline constexpr std::uint16_t ANY = 255;
}  // namespace type
inline constexpr std::uint16_t kClassIn = 1;

// Response codes (RFC 1035 §4.1.1; BADVERS is EDNS's extended code, RFC 6891
// §6.1.3: its upper 8 bits travel in the OPT record).
enum class Rcode : std::uint16_t {
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NxDomain = 3,
  NotImp = 4,
  Refused = 5,
  BadVers = 16,
};

// Header flag bits (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD).
namespace flag {
inline constexpr std::uint16_t QR = 0x8000;
inline constexpr std::uint16_t AA = 0x0400;
inline constexpr std::uint16_t TC = 0x0200;
inline constexpr std::uint16_t RD = 0x0100;
inline constexpr std::uint16_t RA = 0x0080;
inline constexpr std::uint16_t AD = 0x0020;
inline constexpr std::uint16_t CD = 0x0010;
}  // namespace flag

// What parse_query found.
enum class QueryStatus : std::uint8_t {
  Ok,          // one question, well formed
  FormErr,     // answer FORMERR: bad section, QDCOUNT other than 1, bad OPT
  NotImp,      // answer NOTIMP: an opcode other than QUERY (RFC 1035 §4.1.1)
  BadVersion,  // answer BADVERS: EDNS version above 0 (RFC 6891 §6.1.3)
  Drop,        // answer nothing: shorter than a header, or a response (QR set)
};

struct Question {
  // The name as it came, uncompressed wire form ending with the root label:
  // echoing these bytes keeps the case a 0x20-randomising resolver chose.
  std::array<std::uint8_t, kMaxNameWire> wire{};
  std::uint16_t wire_size = 0;
  // Dotted form without the trailing dot ("" for the root), case kept. Only
  // meaningful when text_ok: a label holding a '.', a space, a control byte or
  // DEL has no dotted form a proxy could resolve.
  std::array<char, kMaxNameText> text{};
  std::uint16_t text_size = 0;
  bool text_ok = false;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;

  std::string_view name() const { return {text.data(), text_size}; }
  std::span<const std::uint8_t> name_wire() const { return {wire.data(), wire_size}; }
};

// The query's OPT record (RFC 6891 §6.1.2), when it has one.
struct Edns {
  bool present = false;
  std::uint16_t udp_size = 0;  // the requester's UDP payload size
  std::uint8_t version = 0;
  bool dnssec_ok = false;  // the DO bit: RFC 3225 §3 has the response copy it
};

struct Query {
  QueryStatus status = QueryStatus::Drop;
  std::uint16_t id = 0;
  std::uint16_t flags = 0;    // the query's header flags as received
  bool has_question = false;  // true when question holds a parsed question
  Question question;
  Edns edns;

  std::uint8_t opcode() const { return static_cast<std::uint8_t>((flags >> 11) & 0x0F); }
};

// Parses one DNS query message (the UDP payload, or a TCP frame without its
// length prefix). Never reads outside `message`. Decisions:
// - QDCOUNT must be 1 (RFC 9619: a QUERY has exactly one question); 0 or >1 is
//   FormErr, without a question to echo.
// - Answer and authority records (queries should have none) are skipped, not
//   refused; the additional section may hold one OPT (RFC 6891 §6.1.1: two are
//   FormErr, as is an OPT whose name is not the root); other records are skipped.
// - Compression pointers must point strictly before the start of the name run
//   they occur in and past the header, so any chain of them ends (no loops,
//   no forward pointers); names are at most 255 bytes, labels at most 63.
// - Bytes after the last record are ignored.
Query parse_query(std::span<const std::byte> message);

// The UDP response size a query allows: 512 without EDNS, else its advertised
// payload size (values below 512 count as 512, RFC 6891 §6.2.5).
std::size_t udp_response_limit(const Query& q);

// One answer record: owner name is the question's name (written as a pointer
// to it, RFC 1035 §4.1.4), class IN.
struct Answer {
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::span<const std::uint8_t> rdata;
};

// Writes a response to q into out, using at most max_size bytes (512, the
// EDNS size, or kMaxMessage for TCP). Header: q's ID and opcode, QR and RA set,
// RD and CD copied, AA and AD clear. The question is echoed byte for byte when
// q has one; an OPT record (payload kOurUdpPayload, DO copied) is added when q
// had one, carrying BADVERS's upper bits. When the answers would not fit, the
// response is sent without them and with TC set (RFC 1035 §4.1.1, RFC 2181
// §9). Returns the size written, 0 when not even that fits or q is Drop.
std::size_t build_response(std::span<std::byte> out, std::size_t max_size, const Query& q,
                           Rcode rcode, std::span<const Answer> answers = {});

// A response with TC set and no records, for an answer (e.g. forwarded from an
// upstream over TCP) too big for the client's UDP limit: the client retries over
// TCP (RFC 7766 §5). Returns the size written, 0 when it does not fit.
std::size_t build_truncated(std::span<std::byte> out, std::size_t max_size, const Query& q,
                            Rcode rcode);

// Wire form (labels, ending with the root label) of a dotted name, for a PTR
// answer's RDATA. A trailing dot is allowed. Returns the size written, 0 for an
// empty label, a label over 63 bytes, a name over 255 bytes or too small an
// out. "" and "." give the root (1 byte).
std::size_t encode_name(std::span<std::uint8_t> out, std::string_view dotted);

// --- TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): a 2-byte big-endian length
// before each message.

enum class FrameStatus : std::uint8_t { Ok, NeedMore };

struct TcpFrame {
  FrameStatus status = FrameStatus::NeedMore;
  std::span<const std::byte> message;  // Ok: the message, without the prefix
  // Ok: bytes of the stream the frame took (2 + length). NeedMore: total bytes
  // needed so far (always more than the stream holds).
  std::size_t size = 2;
};

// The first frame of a TCP stream (several may follow each other, RFC 7766
// §6.2.1.1 pipelining). A zero length frame is Ok with an empty message, which
// parse_query drops.
TcpFrame next_tcp_frame(std::span<const std::byte> stream);

// Writes the 2-byte prefix for a message of `size` bytes; false (nothing
// written) when size exceeds kMaxMessage or out is shorter than 2 bytes.
bool put_tcp_length(std::span<std::byte> out, std::size_t size);

}  // namespace socksify::dns
