#include "dns/resolv_answer.hpp"

#include <errno.h>
#include <netdb.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace socksify::dns {
namespace {

void put16(std::span<std::byte> out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::byte>(v >> 8);
  out[at + 1] = static_cast<std::byte>(v & 0xFF);
}

std::uint16_t get16(std::span<const std::uint8_t> in, std::size_t at) {
  return static_cast<std::uint16_t>((in[at] << 8) | in[at + 1]);
}

ResolvOutcome failure(int h_error, int error = 0) {
  return ResolvOutcome{-1, h_error, error, false};
}

// The stub's answer to a parsed query, into answer with glibc's truncation.
ResolvOutcome respond(const Query& q, std::span<const std::byte> query_bytes, AddressSource& source,
                      const StubOptions& options, Forwarder* forwarder,
                      std::span<std::uint8_t> answer) {
  std::array<std::byte, kResolvStackResponse> local{};
  std::span<std::byte> out(local);
  StubOutcome r = answer_query(q, source, options, out, out.size());
  if (r.action == StubAction::Direct) return ResolvOutcome{-1, 0, 0, true};
  if (r.action == StubAction::Forward) {
    // Written straight into the program's buffer: an upstream's answer may be
    // far larger than ours.
    const std::size_t n = forwarder != nullptr
                              ? forwarder->forward(q, query_bytes, std::as_writable_bytes(answer))
                              : 0;
    if (n > 0) return ResolvOutcome{static_cast<int>(n), 0, 0, false};
    // No upstream (or it gave nothing): NODATA, as the stub without one.
    r = {StubAction::Reply, build_response(out, out.size(), q, Rcode::NoError), Rcode::NoError};
    if (r.size == 0) r.action = StubAction::Drop;
  }
  if (r.action != StubAction::Reply) return failure(TRY_AGAIN, ECONNREFUSED);
  const std::size_t copied = std::min(r.size, answer.size());
  std::memcpy(answer.data(), local.data(), copied);
  // res_send's send_vc: a response longer than the buffer is cut, flagged
  // truncated in the copy (TC is bit 1 of the third byte), and its full length
  // returned.
  if (copied < r.size) answer[2] |= 0x02;
  return ResolvOutcome{static_cast<int>(r.size), 0, 0, false};
}

}  // namespace

bool join_query_name(const char* name, const char* domain, std::span<char> out, std::size_t* size) {
  if (name == nullptr || out.size() < kResolvMaxName) return false;
  const std::size_t n = std::strlen(name);
  if (domain == nullptr) {
    // glibc: "n-- ... if (n >= MAXDNAME - 1)": catches "" by wrapping.
    if (n == 0 || n - 1 >= kResolvMaxName - 1) return false;
    std::memcpy(out.data(), name, n);
    *size = n;
    return true;
  }
  const std::size_t d = std::strlen(domain);
  if (n + d + 1 >= kResolvMaxName) return false;
  std::memcpy(out.data(), name, n);
  out[n] = '.';
  std::memcpy(out.data() + n + 1, domain, d);
  *size = n + d + 1;
  return true;
}

std::size_t build_query(std::span<std::byte> out, std::string_view name, int qclass, int qtype,
                        std::uint16_t id) {
  if (qclass < 0 || qclass > 0xFFFF || qtype < 0 || qtype > 0xFFFF) return 0;
  if (name.find('\\') != std::string_view::npos) return 0;
  if (out.size() < kHeaderSize + kMaxNameWire + 4) return 0;
  put16(out, 0, id);
  put16(out, 2, flag::RD);
  put16(out, 4, 1);  // QDCOUNT
  put16(out, 6, 0);
  put16(out, 8, 0);
  put16(out, 10, 0);
  std::array<std::uint8_t, kMaxNameWire> wire{};
  const std::size_t n = encode_name(wire, name);
  // encode_name gives the root for "" and "."; any other name must encode.
  if (n == 0) return 0;
  std::memcpy(out.data() + kHeaderSize, wire.data(), n);
  put16(out, kHeaderSize + n, static_cast<std::uint16_t>(qtype));
  put16(out, kHeaderSize + n + 2, static_cast<std::uint16_t>(qclass));
  return kHeaderSize + n + 4;
}

int h_errno_for_response(std::span<const std::uint8_t> response) noexcept {
  if (response.size() < kHeaderSize) return TRY_AGAIN;
  const auto rcode = static_cast<Rcode>(response[3] & 0x0F);
  const std::uint16_t ancount = get16(response, 6);
  switch (rcode) {
    case Rcode::NoError:
      return ancount != 0 ? 0 : NO_DATA;
    case Rcode::NxDomain:
      return HOST_NOT_FOUND;
    case Rcode::ServFail:
      return TRY_AGAIN;
    default:  // FORMERR, NOTIMP, REFUSED and the rest
      return NO_RECOVERY;
  }
}

ResolvOutcome answer_res_query(std::string_view name, int qclass, int qtype, AddressSource& source,
                               const StubOptions& options, Forwarder* forwarder,
                               std::span<std::uint8_t> answer) noexcept {
  std::array<std::byte, kHeaderSize + kMaxNameWire + 4> query{};
  const std::size_t n = build_query(query, name, qclass, qtype, 0);
  if (n == 0) return failure(NO_RECOVERY);
  if (answer.size() < kHeaderSize) return failure(TRY_AGAIN, EINVAL);
  const std::span<const std::byte> bytes(query.data(), n);
  ResolvOutcome r = respond(parse_query(bytes), bytes, source, options, forwarder, answer);
  if (r.length < 0) return r;
  // What __res_context_query checks in the header it received (the first
  // bytes, present even when the rest was cut).
  const int verdict = h_errno_for_response(answer.first(kHeaderSize));
  if (verdict != 0) return failure(verdict);
  return r;
}

ResolvOutcome answer_res_send(std::span<const std::uint8_t> query, AddressSource& source,
                              const StubOptions& options, Forwarder* forwarder,
                              std::span<std::uint8_t> answer) noexcept {
  if (answer.size() < kHeaderSize || query.size() < kHeaderSize) return failure(0, EINVAL);
  const std::span<const std::byte> bytes = std::as_bytes(query);
  const Query q = parse_query(bytes);
  ResolvOutcome r = respond(q, bytes, source, options, forwarder, answer);
  if (r.length < 0 && !r.direct) r.h_error = 0;  // res_send leaves h_errno
  return r;
}

}  // namespace socksify::dns
