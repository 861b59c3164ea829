// Fuzzes the DNS stub (dns_message.hpp, dns_stub.hpp, dns_forward.hpp):
// arbitrary bytes as a UDP query and as a TCP stream, answered from a small real
// NameTable (so names churn through LRU reuse), and as an upstream's response
// to a forwarded query. Checks that a response stays within its limit, keeps
// the ID, and re-parses (QR cleared) to the same question and EDNS.
// The query ID's low bit picks whether other types are forwarded.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "dns/dns_forward.hpp"
#include "dns/dns_message.hpp"
#include "dns/dns_stub.hpp"
#include "dns/name_table.hpp"
#include "dns/name_table_source.hpp"
#include "fuzz_check.hpp"

using namespace socksify;
using namespace socksify::dns;

namespace {

Cidr range(int family, const char* text, std::uint8_t prefix) {
  Cidr c;
  c.family = static_cast<std::uint8_t>(family);
  c.prefix = prefix;
  inet_pton(family, text, c.bytes);
  return c;
}

void check_question(const Query& q) {
  if (!q.has_question) return;
  const Question& qn = q.question;
  FUZZ_CHECK(qn.wire_size >= 1 && qn.wire_size <= kMaxNameWire);
  FUZZ_CHECK(qn.wire[qn.wire_size - 1] == 0);
  FUZZ_CHECK(qn.text_size <= kMaxNameText);
  FUZZ_CHECK(qn.text_size == (qn.wire_size == 1 ? 0 : qn.wire_size - 2));
}

void check_reply(const Query& q, const StubOutcome& o, std::span<const std::byte> out,
                 std::size_t limit) {
  if (o.action != StubAction::Reply) {
    FUZZ_CHECK(o.size == 0);
    return;
  }
  FUZZ_CHECK(o.size >= kHeaderSize && o.size <= limit && o.size <= out.size());
  const auto* r = reinterpret_cast<const std::uint8_t*>(out.data());
  FUZZ_CHECK(((r[0] << 8) | r[1]) == q.id);
  FUZZ_CHECK((r[2] & 0x80) != 0);  // QR
  // Read back as a query: the same question and EDNS presence.
  static std::array<std::byte, kMaxMessage> copy;
  std::memcpy(copy.data(), out.data(), o.size);
  copy[2] &= std::byte{0x7F};
  const Query back = parse_query(std::span(copy.data(), o.size));
  FUZZ_CHECK(back.has_question == q.has_question);
  if (q.has_question) {
    FUZZ_CHECK(back.question.wire_size == q.question.wire_size);
    FUZZ_CHECK(
        std::memcmp(back.question.wire.data(), q.question.wire.data(), q.question.wire_size) == 0);
    FUZZ_CHECK(back.question.qtype == q.question.qtype);
    FUZZ_CHECK(back.edns.present == q.edns.present);
    FUZZ_CHECK(back.status ==
               (q.status == QueryStatus::NotImp ? QueryStatus::NotImp : QueryStatus::Ok));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static NameTable table(range(AF_INET, "240.0.0.0", 28), range(AF_INET6, "100::", 124), 8);
  NameTableSource source(table);
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  static std::array<std::byte, kMaxMessage + 2> out;

  const Query q = parse_query(in);
  check_question(q);
  StubOptions options;
  options.forward_other_types = (q.id & 1) != 0;
  const std::size_t limit = udp_response_limit(q);
  FUZZ_CHECK(limit >= kMaxUdpPlain && limit <= kMaxMessage);
  const StubOutcome udp = answer_udp(in, source, options, out);
  check_reply(q, udp, out, limit);
  if (q.status == QueryStatus::Drop) FUZZ_CHECK(udp.action == StubAction::Drop);

  // A tiny buffer: never written past, and Reply only when it all fit.
  std::array<std::byte, 40> small;
  const StubOutcome tiny = answer_query(q, source, options, small, small.size());
  check_reply(q, tiny, small, small.size());

  const TcpFrame f = next_tcp_frame(in);
  if (f.status == FrameStatus::Ok) {
    FUZZ_CHECK(f.size == f.message.size() + 2 && f.size <= size);
    const StubOutcome tcp = answer_tcp(f.message, source, options, out);
    if (tcp.action == StubAction::Reply) {
      const TcpFrame back = next_tcp_frame(std::span(out.data(), tcp.size));
      FUZZ_CHECK(back.status == FrameStatus::Ok && back.size == tcp.size);
      check_reply(parse_query(f.message), {StubAction::Reply, tcp.size - 2, tcp.rcode},
                  back.message, kMaxMessage);
    }
  } else {
    FUZZ_CHECK(f.size > size);
  }

  // The input as the upstream's answer to a forwarded query with its ID and,
  // when it has one, its question (so the match succeeds and is copied).
  if (size >= kHeaderSize && size <= kMaxMessage) {
    // The question the input holds, read as if QR were clear.
    static std::array<std::byte, kMaxMessage> as_query;
    std::memcpy(as_query.data(), data, size);
    as_query[2] &= std::byte{0x7F};
    const Query uq = parse_query(std::span(as_query.data(), size));
    std::array<std::uint8_t, kHeaderSize + kMaxNameWire + 4> asked{};
    std::size_t n = kHeaderSize;
    asked[0] = data[0];
    asked[1] = data[1];
    asked[5] = 1;
    if (uq.has_question) {
      std::memcpy(asked.data() + n, uq.question.wire.data(), uq.question.wire_size);
      n += uq.question.wire_size;
      asked[n++] = static_cast<std::uint8_t>(uq.question.qtype >> 8);
      asked[n++] = static_cast<std::uint8_t>(uq.question.qtype);
      asked[n++] = static_cast<std::uint8_t>(uq.question.qclass >> 8);
      asked[n++] = static_cast<std::uint8_t>(uq.question.qclass);
    } else {
      n += 5;
      asked[n - 3] = 1;  // the root, type A
      asked[n - 1] = 1;  // class IN
    }
    const Query fq = parse_query(std::span(reinterpret_cast<const std::byte*>(asked.data()), n));
    FUZZ_CHECK(fq.status == QueryStatus::Ok);
    const std::size_t flimit = udp_response_limit(fq);
    const std::size_t r = relay_response(fq, in, out, flimit);
    FUZZ_CHECK(r >= kHeaderSize && r <= flimit);
    FUZZ_CHECK(static_cast<std::uint8_t>(out[0]) == data[0] &&
               static_cast<std::uint8_t>(out[1]) == data[1]);
    if (answers_query(fq, in) && size <= flimit) {
      FUZZ_CHECK(r == size);
      FUZZ_CHECK(std::memcmp(out.data() + kHeaderSize, fq.question.wire.data(),
                             fq.question.wire_size) == 0);
    }
  }

  // The truncated form is never larger than the full one and keeps TC.
  const std::size_t t = build_truncated(out, limit, q, Rcode::NoError);
  if (t != 0) FUZZ_CHECK((static_cast<std::uint8_t>(out[2]) & 0x02) != 0);
  return 0;
}
