// The client side of a SOCKS4/4a exchange (one request, one 8-byte reply)
// over socks5::Stream, reported in the session's SOCKS5 vocabulary
// (core/upstream.hpp) so failover, chains and log lines need nothing new.
#pragma once

#include <string_view>

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "socks4/codec.hpp"
#include "socks5/codec.hpp"
#include "socks5/handshake.hpp"

namespace socksify::socks4 {

// Sends the request and reads exactly the 8 reply bytes, never more.
// dst: an IPv4 address (a v4-mapped IPv6 one is unmapped), or a name when
// `names` (socks4a); a name without `names` fails with EHOSTUNREACH and an
// IPv6 destination with EAFNOSUPPORT, both before a byte is sent (Stage::Request).
// Stage::Greeting for a proxy that hung up or failed before its first reply
// byte (it said nothing: failover may move on), Stage::Reply after it.
// Malformed reply -> EPROTO; refusal -> reply_errno(CD), Failure::reply = CD.
// On success the socks5::Reply has code 0 and the reply's address as bound.
Result<socks5::Reply, socks5::Failure> handshake(socks5::Stream& stream, std::string_view user_id,
                                                 Command cmd, const Endpoint& dst, bool names);

}  // namespace socksify::socks4
