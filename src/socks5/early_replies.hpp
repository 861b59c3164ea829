// Early data (issue 12 item 3, `early_data on`): the pipelined greeting, auth
// and CONNECT leave in one write and the connection is handed to the program
// at once, before any answer, so its first bytes follow the request in the
// same round trip. The proxy's answers are then still in the socket, in front
// of the destination's bytes; EarlyReplies reads them, one message at a time
// and never a byte past the CONNECT reply, before the program is given data.
// Pure: the caller reads the socket and feeds the bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "socks5/codec.hpp"
#include "socks5/handshake.hpp"

namespace socksify::socks5 {

// The pipelined handshake's bytes (exactly one method offered: no-auth, or
// username/password with a user; then the sub-negotiation; then the request)
// in `out`, which holds kMaxPipelined bytes. Their length, or the Failure
// handshake() would have given (bad credentials, no destination).
inline constexpr std::size_t kMaxPipelined = 3 + kMaxAuthRequest + kMaxRequest;
Result<std::size_t, Failure> encode_pipelined(std::span<std::byte, kMaxPipelined> out,
                                              const Credentials& creds, Command cmd,
                                              const Endpoint& dst);

class EarlyReplies {
 public:
  enum class State : std::uint8_t { Reading, Done, Failed };

  explicit EarlyReplies(bool with_password) noexcept
      : stage_(Stage::Greeting), with_password_(with_password) {}

  // How many bytes to read next: never more than the message being read still
  // needs (so the destination's bytes stay in the socket). 0 once not Reading.
  std::size_t wanted() const noexcept;
  // Feeds what was read (at most wanted() bytes). Failed: failure() says why,
  // with the errno handshake() gives (EACCES, EPROTO, reply_errno(REP)).
  State feed(std::span<const std::byte> bytes) noexcept;
  // The peer closed (read returned 0) before the replies were whole.
  State closed() noexcept;

  State state() const noexcept { return state_; }
  const Failure& failure() const noexcept { return failure_; }
  const Reply& reply() const noexcept { return reply_; }

 private:
  State fail(int code, Stage stage, std::string_view what, std::uint8_t rep = 0) noexcept;
  State advance() noexcept;  // decodes what is buffered

  Stage stage_;  // Greeting: the method choice; Auth; Reply
  bool with_password_;
  State state_ = State::Reading;
  std::size_t have_ = 0;
  std::size_t need_ = 2;  // bytes the current message needs so far
  std::array<std::byte, kMaxReply> buf_{};
  Failure failure_{Errno{0}, Stage::Greeting, 0, ""};
  Reply reply_{};
};

}  // namespace socksify::socks5
