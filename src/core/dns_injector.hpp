// The DNS injector: socksify's own loopback UDP sockets (127.0.0.1 and ::1,
// each made on first use, kept high and protected as core/own_fds.hpp says),
// from which the DNS stub's answers are sent into the program's own socket.
//
// Why a real datagram: the answer then waits in the program's receive queue
// like any other, so poll/epoll/select readiness, blocking and non-blocking
// receives, SO_RCVTIMEO and MSG_PEEK stay the kernel's, with no hook on the
// waiting calls. A program socket connected to a resolver is connected to the
// injector instead (its kernel filter then admits exactly our answers), and
// receives report the resolver as the source (core/dns_intercept.hpp).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <span>

#include "base/result.hpp"

namespace socksify {

// The injector's address for a program socket of `family` that is IPv6-only
// (v6only) or not: 127.0.0.1 (as ::ffff:127.0.0.1 for a dual-stack IPv6
// socket) or [::1]. Makes the injector on first use. Length 0 with an errno
// when it cannot be made.
Result<socklen_t> dns_injector_address(int family, bool v6only, sockaddr_storage& out) noexcept;

// Sends `datagram` from the injector to `to` (a program socket's local
// address: an unspecified address means the same port on loopback). Never
// blocks; a full receive queue drops it, as the network would.
Status dns_inject(std::span<const std::byte> datagram, const sockaddr_storage& to, socklen_t to_len,
                  bool v6only) noexcept;

// True when addr (a datagram's source) is one of the injectors.
bool dns_is_injector(const sockaddr* addr, socklen_t len) noexcept;

// fork: the lock that makes the injectors made anew in the child (the
// injectors themselves are inherited and shared, as any socket).
void dns_injector_reset_in_child() noexcept;

}  // namespace socksify
