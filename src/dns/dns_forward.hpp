// The reply to a forwarded DNS query: when the stub decides StubAction::Forward
// (a type the name table cannot answer, with a dns_upstream configured), the
// caller sends the query through the proxy over TCP to the upstream (RFC 7766)
// and hands the upstream's response here, which decides what the program that
// asked receives (issue 10 item 2).
//
// Pure: no I/O, no allocation, no exceptions. The upstream's bytes are
// untrusted: only a response to this very query (same ID, opcode and question)
// is passed on; anything else becomes SERVFAIL, so a confused or hostile
// upstream cannot answer a question that was not asked.
#pragma once

#include <cstddef>
#include <span>

#include "dns/dns_message.hpp"

namespace socksify::dns {

// Writes into out (at most max_size bytes: udp_response_limit(q) for a UDP
// client, kMaxMessage over TCP) the response for q given the upstream's
// `upstream` message (without its TCP length prefix):
// - a response to q (ID, QR, opcode, one question of the same type, class and
//   name compared case-insensitively, RFC 4343) is copied whole, with the
//   question's name bytes replaced by q's, so a client that randomised the case
//   (0x20) finds its own spelling back even if the upstream normalised it;
// - such a response larger than the limit becomes build_truncated() with the
//   upstream's RCODE: the client retries over TCP (RFC 7766 §5);
// - anything else (short, another ID or question, a query) is SERVFAIL.
// Returns the size written, 0 when q is Drop or not even a header fits.
std::size_t relay_response(const Query& q, std::span<const std::byte> upstream,
                           std::span<std::byte> out, std::size_t max_size);

// The same check alone: true when upstream is a response to q as above.
bool answers_query(const Query& q, std::span<const std::byte> upstream);

}  // namespace socksify::dns
