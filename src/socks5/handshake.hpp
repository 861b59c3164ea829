// The client side of a SOCKS5 exchange (greeting, optional RFC 1929 auth,
// request, reply) over an abstract byte stream, so that tests can feed split,
// truncated and hostile bytes without a network.
#pragma once

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
};

struct Credentials {
  std::string_view user;      // empty: offer no-auth only
  std::string_view password;
};

// Why a handshake failed, for the one log line the caller writes. Greeting:
// sending ours or waiting for the answer (a proxy that hangs up here said
// nothing); Method: the answer itself (malformed, none acceptable, not offered).
enum class Stage : std::uint8_t { Greeting, Method, Auth, Request, Reply };
struct Failure {
  Errno error;         // what the program sees
  Stage stage;
  std::uint8_t reply;  // REP byte when stage == Reply and the server refused, else 0
  std::string_view what;  // static text: "no acceptable auth method", "malformed reply", ...
};

// Runs the whole exchange; reads exactly the bytes of each server message, never
// more, so application bytes that follow the reply stay in the socket.
// Errors: auth rejected or no acceptable method -> EACCES; malformed bytes ->
// EPROTO; refusal -> reply_errno(REP); stream errors pass through.
Result<Reply, Failure> handshake(Stream& stream, const Credentials& creds, Command cmd,
                                 const Endpoint& dst);

}  // namespace socksify::socks5
