// Address conversions for UDP through the relay (pure): what a UDP socket of a
// given family can name, what to ask the proxy for in UDP ASSOCIATE, and
// whether a datagram came from the relay.
#pragma once

#include <sys/socket.h>

#include "base/endpoint.hpp"

namespace socksify {

// ip as a sockaddr of the socket's family: an AF_INET6 socket sees IPv4
// addresses v4-mapped (::ffff:a.b.c.d), as the kernel shows them; an AF_INET
// socket can show a v4-mapped address as IPv4 but no other IPv6 address.
// Returns the length, 0 when the address cannot be shown (or is not an IP).
socklen_t sockaddr_in_family(const Endpoint& ip, int family, sockaddr_storage& out) noexcept;

// RFC 1928 §7: DST of UDP ASSOCIATE is the address and port the client will
// send from. From the socket's bound address: a wildcard address becomes the
// zero address of the family we want the relay in (proxies such as danted
// answer with a relay of DST's family), a v4-mapped address its IPv4 form, a
// specific address itself.
Endpoint associate_request_address(const Endpoint& bound, bool want_ipv6_relay) noexcept;

// True when `from` (as recvmsg filled it) is the relay's address (in the same
// socket family form, as sockaddr_in_family made it): family, address and port.
bool is_relay_address(const sockaddr_storage& from, socklen_t from_len,
                      const sockaddr_storage& relay) noexcept;

// A RFC 1928 §7 header's length for an address: 10 (IPv4), 22 (IPv6), 7 + n.
std::size_t udp_header_size(const Endpoint& ep) noexcept;

}  // namespace socksify
