// Early data (socksify.conf(5) `early_data on`, issue 12 item 3): a
// non-blocking connect through one SOCKS5 proxy is handed to the program as
// soon as the pipelined greeting, login and CONNECT are written, before any
// reply, so the program's first bytes follow the request in the same round
// trip. The replies then wait in the socket in front of the destination's
// bytes: the data hooks read them (EarlyTunnel::take_replies) before the
// program's first read, never a byte more; a refusal becomes the error of that
// read, or of the first write after it.
#pragma once

#include <atomic>
#include <mutex>

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "socks5/early_replies.hpp"

namespace socksify {

class Runtime;
class SessionIo;

// The replies still owed by the proxy of one early-data connection, and the
// outcome once they are read. Shared by every thread that reads or writes the
// socket. Made by the handshake worker on a socket state's first early
// connect and kept with that state for good (states are recycled, never
// freed: a thread that races a close() reads a stale tunnel, not freed memory).
struct EarlyTunnel {
  EarlyTunnel(bool with_password, const Endpoint& to, std::size_t proxy_index) noexcept
      : replies(with_password), dst(to), proxy(proxy_index) {}
  // For the state's next early connect (nobody reads it meanwhile: not due).
  void reset(bool with_password, const Endpoint& to, std::size_t proxy_index) noexcept {
    std::lock_guard lock(mu);
    replies = socks5::EarlyReplies(with_password);
    dst = to;
    proxy = proxy_index;
    error = 0;
  }

  // true until the replies are read and found good (then the socket is an
  // ordinary tunnel: one load per data call), or until a failure was reported.
  std::atomic<bool> due{false};
  std::mutex mu;  // one reader of the replies at a time
  socks5::EarlyReplies replies;
  Endpoint dst;       // for the log line
  std::size_t proxy;  // index in the runtime's pool
  int error = 0;      // the failure, once known; reported once
};

// In the worker, for a non-blocking connect of fd to dst: when early data
// applies (early_data on; exactly one proxy, SOCKS5, not known to refuse
// pipelining; pipeline not off; CONNECT), connects fd to the proxy and writes
// the pipelined handshake, and returns the EarlyTunnel to read the replies
// with: `reuse` (the state's, reset) or a new one; the caller marks it due
// once the socket is the program's. Errno{EAGAIN}: early data does not apply
// (or no memory, or the write failed); fd is unconnected, and the caller runs
// the usual session. Any other error: the proxy could not be reached (logged,
// as a session would); the connect fails with it.
Result<EarlyTunnel*> send_early(const Runtime& rt, SessionIo& io, int fd, const Endpoint& dst,
                                EarlyTunnel* reuse);

// In a data hook, before the program's read (or write) on an early-data
// socket whose replies are due: reads them, without blocking when the socket
// is non-blocking or `dontwait`. 0: the tunnel is open, go on with the call.
// -1 with errno: EAGAIN (replies not all here yet), or the failure, reported
// once (the socket is then shut down: later calls see end of stream / EPIPE).
// Preserves errno on success. Never throws.
int take_replies(int fd, EarlyTunnel& t, bool dontwait) noexcept;

// Before a write while the replies are due: reads those already here; -1 with
// errno when they show a failure (reported once), else 0 (the bytes go out
// behind the request). Preserves errno on 0.
int early_write_check(int fd, EarlyTunnel& t) noexcept;

}  // namespace socksify
