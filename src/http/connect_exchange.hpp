// The client side of an HTTP CONNECT exchange (request, status line, headers)
// over the same abstract byte stream the SOCKS5 handshake uses, so tests can
// feed split, truncated and hostile replies without a network.
#pragma once

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "socks5/handshake.hpp"

namespace socksify::http {

// Sends the CONNECT request and reads the reply up to and including the blank
// line that ends its headers, not one byte more: reads ask for at most what
// parse_response says cannot pass that line (4 bytes or fewer after the first
// 16), so the tunnel's first bytes stay in the socket for the program. Small
// reads, not MSG_PEEK: the Stream has no peek, and a peek-then-read would cost
// the same two calls per chunk while trusting the data not to change between.
//
// Failures use the SOCKS5 stages: Greeting when sending the request failed or
// the proxy hung up before its first byte (it said nothing: failover may try
// the next proxy), Reply for whatever it answered. Reply::bound stays empty:
// HTTP names no bound address. The failure's `reply` is 0 (status codes do not
// fit in a byte; the text names the status).
Result<socks5::Reply, socks5::Failure> connect(socks5::Stream& stream, std::string_view user,
                                               std::string_view password, const Endpoint& dst);

}  // namespace socksify::http
