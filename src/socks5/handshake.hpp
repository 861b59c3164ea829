// The client side of a SOCKS5 exchange (greeting, optional RFC 1929 auth,
// request, reply) over an abstract byte stream, so that tests can feed split,
// truncated and hostile bytes without a network.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "socks5/codec.hpp"

namespace socksify::socks5 {

// A byte stream with a deadline owned by the implementation. Both calls return
// at least one byte or an error: Errno{ETIMEDOUT} when the deadline passed,
// Errno{ECONNRESET} when the peer closed, or whatever the socket said.
class Stream {
 public:
  virtual ~Stream() = default;
  virtual Result<std::size_t> read_some(std::span<std::byte> buf) = 0;
  virtual Result<std::size_t> write_some(std::span<const std::byte> buf) = 0;
  // Bounds the waits of the reads that follow to `limit` from now (never past
  // the stream's own deadline); zero lifts the bound. A read that runs past it
  // fails with Errno{ETIMEDOUT}. Streams without a clock ignore it (the probe
  // below then waits for the whole deadline).
  virtual void limit_waits(std::chrono::milliseconds limit) { (void)limit; }
  // The bytes that are there, waiting (as read_some) for at least one, copied
  // into buf without taking them: the next read_some gets them again. A reader
  // that must not read past its message (an HTTP reply's end is found only by
  // looking) peeks, then takes exactly its own bytes: two calls instead of
  // one per possible end. Errno{EOPNOTSUPP} from streams that cannot.
  virtual Result<std::size_t> peek_some(std::span<std::byte> buf) {
    (void)buf;
    return Errno{EOPNOTSUPP};
  }
};

// Sends all of `bytes`: write_some may take fewer than offered (a socket
// buffer, a signal), so it loops until done or the stream reports an error. A
// stream that breaks its contract (0 bytes, more than offered) is Errno{EIO}.
Status write_all(Stream& stream, std::span<const std::byte> bytes);
// Reads exactly bytes.size() bytes (after a peek showed them), as write_all.
Status read_all(Stream& stream, std::span<std::byte> bytes);

struct Credentials {
  std::string_view user;  // empty: offer no-auth only
  std::string_view password;
};

// Why a handshake failed, for the one log line the caller writes. Greeting:
// sending ours or waiting for the answer (a proxy that hangs up here said
// nothing); Method: the answer itself (malformed, none acceptable, not offered).
enum class Stage : std::uint8_t { Greeting, Method, Auth, Request, Reply };
struct Failure {
  Errno error;  // what the program sees
  Stage stage;
  std::uint8_t reply;     // REP byte when stage == Reply and the server refused, else 0
  std::string_view what;  // static text: "no acceptable auth method", "malformed reply", ...
  // Pipelining::Probe only: the proxy chose our method but did not answer the
  // rest within the probe window, or refused the one method offered. Ask it
  // again, one message per round trip, on a fresh connection.
  bool retry_sequential = false;
  // retry_sequential after a stall: the window that passed without an answer.
  // A slow destination delays the CONNECT reply just as a proxy that dropped
  // the request does, so the caller times the sequential retry before it
  // concludes anything (core/session.cpp). Zero: the proxy refused the method.
  std::chrono::milliseconds stalled_for{0};
};

// How the client messages go out.
//   Off: one message per round trip; both methods offered when we have a user
//        (the proxy may waive auth).
//   On: greeting (exactly one method: no-auth, or username/password when we
//       have a user), auth and request in one write, then the replies in order.
//   Probe: as On, but the replies after the method choice must come within
//          probe_window(greeting round trip); if they do not (microsocks
//          answers the greeting and drops the rest), fail with retry_sequential.
enum class Pipelining : std::uint8_t { Off, On, Probe };

// How long a probing client waits for the reply after the method choice:
// 4 greeting round trips (the proxy may itself connect to the destination
// before the CONNECT reply), at least 200 ms and at most 2 s.
std::chrono::milliseconds probe_window(std::chrono::microseconds greeting_rtt);

// Runs the whole exchange; reads exactly the bytes of each server message, never
// more, so application bytes that follow the reply stay in the socket.
// Errors: auth rejected or no acceptable method -> EACCES; malformed bytes ->
// EPROTO; refusal -> reply_errno(REP); stream errors pass through.
Result<Reply, Failure> handshake(Stream& stream, const Credentials& creds, Command cmd,
                                 const Endpoint& dst, Pipelining how = Pipelining::Off);

}  // namespace socksify::socks5
