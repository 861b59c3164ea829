#include "dns/dns_stub.hpp"

#include <sys/socket.h>

#include <array>

namespace socksify::dns {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool ends_with_nocase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  const std::string_view tail = s.substr(s.size() - suffix.size());
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    if (lower(tail[i]) != suffix[i]) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

StubOutcome reply(std::span<std::byte> out, std::size_t max_size, const Query& q, Rcode rcode,
                  std::span<const Answer> answers = {}) {
  const std::size_t n = build_response(out, max_size, q, rcode, answers);
  if (n == 0) return {};
  return {StubAction::Reply, n, rcode};
}

// A, AAAA and ANY of a name: its fake addresses.
StubOutcome answer_address(const Query& q, AddressSource& source, const StubOptions& options,
                           std::span<std::byte> out, std::size_t max_size) {
  const Question& qn = q.question;
  if (qn.text_size == 0) return reply(out, max_size, q, Rcode::NoError);  // the root
  if (!qn.text_ok) return reply(out, max_size, q, Rcode::NxDomain);
  std::array<std::uint8_t, 4> v4{};
  std::array<std::uint8_t, 16> v6{};
  std::array<Answer, 2> answers;
  std::size_t count = 0;
  bool direct = false;
  const auto ask = [&](int family, std::uint16_t rr_type, std::span<std::uint8_t> buf) {
    const auto status = source.address_for(qn.name(), family, buf);
    if (status == AddressSource::Status::Direct) direct = true;
    if (status == AddressSource::Status::Found) {
      answers[count++] = Answer{rr_type, options.ttl, buf};
      return true;
    }
    return status != AddressSource::Status::Unavailable;
  };
  bool ok = true;
  if (qn.qtype == type::A || qn.qtype == type::ANY) ok = ask(AF_INET, type::A, v4) && ok;
  if (qn.qtype == type::AAAA || qn.qtype == type::ANY) ok = ask(AF_INET6, type::AAAA, v6) && ok;
  if (direct) return {StubAction::Direct, 0, Rcode::NoError};
  if (!ok && count == 0) return reply(out, max_size, q, Rcode::ServFail);
  return reply(out, max_size, q, Rcode::NoError, std::span(answers.data(), count));
}

// A question the table does not answer: forwarded when an upstream exists.
StubOutcome answer_other(const Query& q, const StubOptions& options, std::span<std::byte> out,
                         std::size_t max_size) {
  if (options.forward_other_types) return {StubAction::Forward, 0, Rcode::NoError};
  return reply(out, max_size, q, Rcode::NoError);
}

StubOutcome answer_ptr(const Query& q, AddressSource& source, const StubOptions& options,
                       std::span<std::byte> out, std::size_t max_size) {
  const Question& qn = q.question;
  const auto addr = qn.text_ok ? parse_reverse_name(qn.name()) : std::nullopt;
  if (!addr) return answer_other(q, options, out, max_size);
  std::array<char, kMaxNameWire> name{};
  std::size_t name_size = 0;
  switch (source.name_for(addr->view(), name, &name_size)) {
    case AddressSource::Status::Found:
      break;
    case AddressSource::Status::NotFake:
      return answer_other(q, options, out, max_size);
    case AddressSource::Status::NoName:
      return reply(out, max_size, q, Rcode::NxDomain);
    case AddressSource::Status::NoAddress:
      return reply(out, max_size, q, Rcode::NoError);
    case AddressSource::Status::Direct:
      return {StubAction::Direct, 0, Rcode::NoError};
    case AddressSource::Status::Unavailable:
      return reply(out, max_size, q, Rcode::ServFail);
  }
  std::array<std::uint8_t, kMaxNameWire> rdata{};
  const std::size_t n =
      name_size <= name.size() ? encode_name(rdata, std::string_view(name.data(), name_size)) : 0;
  // A name the table holds but DNS cannot spell (a label over 63 bytes).
  if (n == 0) return reply(out, max_size, q, Rcode::ServFail);
  const Answer answer{type::PTR, options.ttl, std::span(rdata.data(), n)};
  return reply(out, max_size, q, Rcode::NoError, std::span(&answer, 1));
}

}  // namespace

std::optional<ReverseAddress> parse_reverse_name(std::string_view name) {
  ReverseAddress out;
  if (ends_with_nocase(name, ".in-addr.arpa")) {
    name.remove_suffix(13);
    // RFC 1035 §3.5: the four octets in decimal, least significant first.
    for (int i = 3; i >= 0; --i) {
      const std::size_t dot = name.find('.');
      const std::string_view label = name.substr(0, dot);
      if (label.empty() || label.size() > 3 || (i == 0) != (dot == std::string_view::npos)) {
        return std::nullopt;
      }
      unsigned value = 0;
      for (const char c : label) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
      }
      if (value > 255 || (label.size() > 1 && label[0] == '0')) return std::nullopt;
      out.bytes[i] = static_cast<std::uint8_t>(value);
      name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    out.size = 4;
    return out;
  }
  if (ends_with_nocase(name, ".ip6.arpa")) {
    name.remove_suffix(9);
    // RFC 3596 §2.5: 32 nibbles, least significant first, one per label.
    if (name.size() != 63) return std::nullopt;
    for (std::size_t k = 0; k < 32; ++k) {
      const int v = hex_value(name[2 * k]);
      if (v < 0 || (k < 31 && name[2 * k + 1] != '.')) return std::nullopt;
      const std::size_t byte = 15 - k / 2;
      out.bytes[byte] = static_cast<std::uint8_t>(k % 2 == 0 ? (out.bytes[byte] | v)
                                                             : (out.bytes[byte] | (v << 4)));
    }
    out.size = 16;
    return out;
  }
  return std::nullopt;
}

StubOutcome answer_query(const Query& q, AddressSource& source, const StubOptions& options,
                         std::span<std::byte> out, std::size_t max_size) noexcept {
  switch (q.status) {
    case QueryStatus::Drop:
      return {};
    case QueryStatus::FormErr:
      return reply(out, max_size, q, Rcode::FormErr);
    case QueryStatus::NotImp:
      return reply(out, max_size, q, Rcode::NotImp);
    case QueryStatus::BadVersion:
      return reply(out, max_size, q, Rcode::BadVers);
    case QueryStatus::Ok:
      break;
  }
  const Question& qn = q.question;
  if (qn.qclass != kClassIn) return reply(out, max_size, q, Rcode::Refused);
  switch (qn.qtype) {
    case type::A:
    case type::AAAA:
    case type::ANY:
      return answer_address(q, source, options, out, max_size);
    case type::PTR:
      return answer_ptr(q, source, options, out, max_size);
    case type::AXFR:
    case type::IXFR:
      return reply(out, max_size, q, Rcode::Refused);
    default:
      return answer_other(q, options, out, max_size);
  }
}

StubOutcome answer_udp(std::span<const std::byte> datagram, AddressSource& source,
                       const StubOptions& options, std::span<std::byte> out) noexcept {
  const Query q = parse_query(datagram);
  return answer_query(q, source, options, out, udp_response_limit(q));
}

StubOutcome answer_tcp(std::span<const std::byte> message, AddressSource& source,
                       const StubOptions& options, std::span<std::byte> out) noexcept {
  if (out.size() < 2) return {};
  const Query q = parse_query(message);
  StubOutcome r = answer_query(q, source, options, out.subspan(2), kMaxMessage);
  if (r.action != StubAction::Reply) return r;
  put_tcp_length(out, r.size);
  r.size += 2;
  return r;
}

}  // namespace socksify::dns
