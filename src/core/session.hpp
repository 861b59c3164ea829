// A proxy session on the program's own socket: connect it to the proxy (the
// first proxy of the pool that answers, or through every hop of a chain), run
// the proxy's handshake (core/upstream.hpp), and leave the socket as the
// tunnel. The program's descriptor flags are exactly as they were after.
// What happened is data (core/session_outcome.hpp): the library logs it, and
// --check reports it.
#pragma once

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "core/session_outcome.hpp"
#include "socks5/codec.hpp"

namespace socksify {

class Runtime;
class SessionIo;

// Before a handshake that cannot swap sockets (the helper thread works on a dup):
// give an AF_INET socket an AF_INET6 body now if the first proxy is IPv6.
// family: the socket's (the program's sockaddr says it; saves asking the kernel).
// group: the route group the connection goes to (core/route.hpp), whose first proxy decides.
// now_family, when given: the socket's family afterwards.
Status prepare_socket(int fd, int family, std::size_t group = 0,
                      int* now_family = nullptr) noexcept;
// replaced, when given: set to AF_INET6 when the socket was swapped (else untouched).
Status prepare_socket(const Runtime& rt, SessionIo& io, int fd, int family, std::size_t group = 0,
                      int* replaced = nullptr) noexcept;

// On failure the socket is left unconnected, one line says why (destination,
// proxy, reason; never a password), and the error is the errno the program gets.
// may_replace_socket: an AF_INET socket may be swapped (dup3) for an AF_INET6
// one to reach an IPv6 proxy; without it such a proxy is skipped (EAFNOSUPPORT).
// `subject` names what the program was reaching in the log line when it is not
// dst (UDP ASSOCIATE's DST is our own address, not the datagram's destination).
// `outcome`, when given, receives what happened.
// This one works on the process's Runtime and real sockets, and logs.
Result<socks5::Reply> open_session(int fd, socks5::Command cmd, const Endpoint& dst,
                                   bool may_replace_socket = true,
                                   const Endpoint* subject = nullptr,
                                   SessionOutcome* outcome = nullptr) noexcept;

struct SessionOptions {
  bool may_replace_socket = true;
  const Endpoint* subject = nullptr;
  // Told of each failed attempt as it happens (failed != null) and of the
  // success (failed == null); the library logs from here. Null: say nothing.
  void (*report)(const SessionOutcome& outcome, const SessionAttempt* failed) = nullptr;
  // The route group whose proxies serve (core/route.hpp; 0: the unnamed list).
  std::size_t group = 0;
};

// The session itself, on the given runtime and socket operations; `outcome`
// is filled in (it should be freshly constructed).
Result<socks5::Reply> open_session(const Runtime& rt, SessionIo& io, int fd, socks5::Command cmd,
                                   const Endpoint& dst, SessionOutcome& outcome,
                                   const SessionOptions& options = {}) noexcept;

// The session for `group` can be run for a while, stopped at any wait and
// run again by another thread over a replay of its I/O (core/inline_handshake.hpp):
// one proxy, SOCKS5 with pipelining decided, SOCKS4 or HTTP CONNECT, no
// per-process login.
bool session_replayable(const Runtime& rt, std::size_t group) noexcept;

// The library's report: one log line per failed attempt (Warn when failover
// moves on, else Error), a Debug line on success.
void log_session(const SessionOutcome& outcome, const SessionAttempt* failed) noexcept;

}  // namespace socksify
