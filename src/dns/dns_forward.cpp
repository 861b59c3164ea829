#include "dns/dns_forward.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace socksify::dns {
namespace {

std::uint8_t lower(std::uint8_t c) {
  return c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c - 'A' + 'a') : c;
}

std::uint16_t u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

bool answers_query(const Query& q, std::span<const std::byte> upstream) {
  if (q.status == QueryStatus::Drop || !q.has_question) return false;
  const auto* p = reinterpret_cast<const std::uint8_t*>(upstream.data());
  const std::size_t size = upstream.size();
  const Question& qn = q.question;
  // Header, then the question uncompressed: the first name of a message has
  // nothing before it to point to (RFC 1035 §4.1.4).
  if (size < kHeaderSize + qn.wire_size + 4) return false;
  const std::uint16_t flags = u16(p + 2);
  if (u16(p) != q.id || (flags & flag::QR) == 0) return false;
  if (((flags >> 11) & 0x0F) != q.opcode() || u16(p + 4) != 1) return false;
  const std::uint8_t* name = p + kHeaderSize;
  // The label lengths match byte for byte (they are < 64, unaffected by case),
  // so comparing every byte case-insensitively compares the names.
  for (std::size_t i = 0; i < qn.wire_size; ++i) {
    if (lower(name[i]) != lower(qn.wire[i])) return false;
  }
  const std::uint8_t* tail = name + qn.wire_size;
  return u16(tail) == qn.qtype && u16(tail + 2) == qn.qclass;
}

std::size_t relay_response(const Query& q, std::span<const std::byte> upstream,
                           std::span<std::byte> out, std::size_t max_size) {
  if (q.status == QueryStatus::Drop) return 0;
  if (!answers_query(q, upstream)) return build_response(out, max_size, q, Rcode::ServFail);
  const auto* p = reinterpret_cast<const std::uint8_t*>(upstream.data());
  if (upstream.size() > std::min(out.size(), max_size)) {
    return build_truncated(out, max_size, q, static_cast<Rcode>(u16(p + 2) & 0x000F));
  }
  std::memcpy(out.data(), upstream.data(), upstream.size());
  std::memcpy(out.data() + kHeaderSize, q.question.wire.data(), q.question.wire_size);
  return upstream.size();
}

}  // namespace socksify::dns
