// A blocking connect()'s handshake on the caller's own thread, for a short
// window, and a worker going on with it where the window left it.
//
// Handing every blocking connect() to a pool worker cost a thread hand-off both
// ways (bench/connect_cycles: ~5 futex calls and two wake-ups per cycle). The
// caller now runs the session itself, with its signals blocked and
// cancellation disabled (tcp_connect.cpp), but only for kInlineWindow: a
// handshake still unfinished then (a slow or silent proxy) goes to a worker
// and the caller waits interruptibly, as before. Nothing is thrown away or
// sent twice at the hand-off: the session's I/O is recorded (bytes written,
// reply bytes read) and the worker runs the same deterministic session again
// over a stream that replays that record before it touches the socket, so the
// proxy sees one handshake and the destination one connection.
#pragma once

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "core/session_io.hpp"
#include "core/socket_stream.hpp"

namespace socksify {

// How long a blocking connect() may hold its signals for the handshake: a
// signal sent meanwhile is delivered at most this late (then the wait is the
// kernel-like interruptible one of await_handshake).
inline constexpr std::chrono::milliseconds kInlineWindow{10};

// The record a worker goes on from. Reply bytes beyond kMaxReplay cannot be
// replayed; the sessions that run inline (session_replayable) read at most
// 2 + 2 + 262 (SOCKS5), 8 (SOCKS4) or http::kMaxResponse (HTTP CONNECT).
struct HandshakeSoFar {
  static constexpr std::size_t kMaxReplay = 8192;
  enum class Phase : std::uint8_t {
    None,        // not handed off
    Connecting,  // the TCP connect to the proxy is in flight
    Talking,     // connected; `written` bytes sent, `read` reply bytes taken
  };
  Phase phase = Phase::None;
  bool overflow = false;   // more reply bytes than kMaxReplay: no hand-off
  int flags = 0;           // the socket's file status flags at connect()
  int family = AF_UNSPEC;  // the socket's family, known from connect() (else asked)
  std::size_t group = 0;   // the route group (core/route.hpp)
  Deadline deadline{};     // the session's deadline (connect_timeout)
  std::size_t written = 0;
  std::size_t read = 0;
  std::array<std::byte, kMaxReplay> replies;  // the first `read` bytes (not zeroed: 8 KiB)

  bool handed_off() const noexcept { return phase != Phase::None; }
};

// The caller's stream: the socket's, noting what went out and what came back.
class RecordingStream final : public socks5::Stream {
 public:
  // window < deadline: a wait that times out at the window hands off (Talking).
  RecordingStream(socks5::Stream& inner, HandshakeSoFar& so_far, Deadline window, Deadline deadline)
      : inner_(inner), so_far_(so_far), window_(window), deadline_(deadline) {}
  Result<std::size_t> read_some(std::span<std::byte> buf) override;
  Result<std::size_t> write_some(std::span<const std::byte> buf) override;
  void limit_waits(std::chrono::milliseconds limit) override { inner_.limit_waits(limit); }
  // Nothing to record: peeked bytes are recorded when they are read.
  Result<std::size_t> peek_some(std::span<std::byte> buf) override;

 private:
  // A failure that is the window closing, not the session's own.
  void note_failure(const Errno& e);

  socks5::Stream& inner_;
  HandshakeSoFar& so_far_;
  Deadline window_;
  Deadline deadline_;
};

// The worker's stream: the recorded writes are taken as sent and the recorded
// reads given back, in order; then the socket's.
class ReplayStream final : public socks5::Stream {
 public:
  ReplayStream(socks5::Stream& inner, const HandshakeSoFar& so_far)
      : inner_(inner), so_far_(so_far), unsent_(so_far.written) {}
  Result<std::size_t> read_some(std::span<std::byte> buf) override;
  Result<std::size_t> write_some(std::span<const std::byte> buf) override;
  void limit_waits(std::chrono::milliseconds limit) override { inner_.limit_waits(limit); }
  // The recorded bytes not yet replayed, while there are any (a peek may
  // show fewer bytes than are there); then the socket's.
  Result<std::size_t> peek_some(std::span<std::byte> buf) override;

 private:
  socks5::Stream& inner_;
  const HandshakeSoFar& so_far_;
  std::size_t unsent_;  // recorded bytes the session has yet to "write"
  std::size_t replayed_ = 0;
};

// The session's I/O on the caller's thread: the system's, with every wait cut
// at `window` (then so_far says where the session stopped, and nothing is
// undone: no disconnect, the socket stays non-blocking for the worker), and
// the flags connect() read already (no second F_GETFL).
class InlineSessionIo final : public SessionIo {
 public:
  InlineSessionIo(HandshakeSoFar& so_far, Deadline window) : so_far_(so_far), window_(window) {}
  int family(int fd) override {
    return so_far_.family != AF_UNSPEC ? so_far_.family : sys_.family(fd);
  }
  int status_flags(int) override { return so_far_.flags; }
  void set_status_flags(int fd, int flags) override;
  Status replace_socket(int fd, int family) override { return sys_.replace_socket(fd, family); }
  // connect_within's, with every wait cut at the window.
  Status connect(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) override;
  socks5::Stream& stream(int fd, Deadline deadline) override;
  void disconnect(int fd) override;

 private:
  HandshakeSoFar& so_far_;
  Deadline window_;
  SystemSessionIo sys_;
  std::optional<SocketStream> socket_;
  std::optional<RecordingStream> recording_;
};

// The worker's I/O for a handed-off session: the connect in flight is waited
// for (or already done), the recorded bytes are replayed, then the system's.
class ResumedSessionIo final : public SessionIo {
 public:
  explicit ResumedSessionIo(const HandshakeSoFar& so_far) : so_far_(so_far) {}
  int family(int fd) override { return sys_.family(fd); }
  int status_flags(int) override { return so_far_.flags; }
  void set_status_flags(int fd, int flags) override;
  Status replace_socket(int fd, int family) override { return sys_.replace_socket(fd, family); }
  Status connect(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) override;
  socks5::Stream& stream(int fd, Deadline deadline) override;
  void disconnect(int fd) override { sys_.disconnect(fd); }

 private:
  const HandshakeSoFar& so_far_;
  bool nonblocking_ = true;  // the caller left the socket non-blocking
  bool connected_ = false;   // the first connect() was the caller's
  SystemSessionIo sys_;
  std::optional<SocketStream> socket_;
  std::optional<ReplayStream> replay_;
};

}  // namespace socksify
