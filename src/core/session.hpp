// A SOCKS5 session on the program's own socket: connect it to the proxy (the
// first proxy of the pool that answers), run the handshake, and leave the socket
// as the tunnel. The program's descriptor flags are exactly as they were after.
#pragma once

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "socks5/codec.hpp"

namespace socksify {

// Before a handshake that cannot swap sockets (the helper thread works on a dup):
// give an AF_INET socket an AF_INET6 body now if the first proxy is IPv6.
// family: the socket's (the program's sockaddr says it; saves asking the kernel).
Status prepare_socket(int fd, int family) noexcept;

// On failure the socket is left unconnected, one line says why (destination,
// proxy, reason; never a password), and the error is the errno the program gets.
// may_replace_socket: an AF_INET socket may be swapped (dup3) for an AF_INET6
// one to reach an IPv6 proxy; without it such a proxy is skipped (EAFNOSUPPORT).
// `subject` names what the program was reaching in the log line when it is not
// dst (UDP ASSOCIATE's DST is our own address, not the datagram's destination).
Result<socks5::Reply> open_session(int fd, socks5::Command cmd, const Endpoint& dst,
                                   bool may_replace_socket = true,
                                   const Endpoint* subject = nullptr) noexcept;

}  // namespace socksify
