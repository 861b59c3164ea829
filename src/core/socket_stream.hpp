// Deadline-bound socket I/O for the handshake, on a non-blocking descriptor
// (the program's own socket, switched to non-blocking for the duration).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>

#include "base/result.hpp"
#include "socks5/handshake.hpp"

namespace socksify {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// Set by a handshake worker to its job's flag: once close() cancelled the job,
// every wait and connect below fails with ECANCELED at once (the socket was
// also shut down, which wakes a wait in progress).
inline thread_local const std::atomic<bool>* t_handshake_cancelled = nullptr;

// Waits until fd is ready for events or the deadline passes (Errno{ETIMEDOUT}).
// A signal does not end the wait (EINTR mid-handshake would leave the tunnel
// half built); handshakes run on workers, whose signals are blocked anyway,
// while the program's connect() waits interruptibly (await_handshake).
Status wait_ready(int fd, short events, Deadline deadline) noexcept;

// connect() with a deadline on a non-blocking socket; the socket's own error
// (SO_ERROR) when it fails.
// It also asks TCP_INFO once connect() says EINPROGRESS: a loopback proxy is
// usually connected by then, and one call tells so (poll and SO_ERROR are two).
Status connect_within(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) noexcept;

// Whether a TCP socket whose connect() said EINPROGRESS is connected already.
bool connected_at_once(int fd) noexcept;

class SocketStream final : public socks5::Stream {
 public:
  SocketStream(int fd, Deadline deadline) : fd_(fd), deadline_(deadline) {}
  Result<std::size_t> read_some(std::span<std::byte> buf) override;
  Result<std::size_t> write_some(std::span<const std::byte> buf) override;
  void limit_waits(std::chrono::milliseconds limit) override;
  Result<std::size_t> peek_some(std::span<std::byte> buf) override;

 private:
  Result<std::size_t> receive(std::span<std::byte> buf, int flags);

  Deadline read_deadline() const { return read_limit_ < deadline_ ? read_limit_ : deadline_; }

  int fd_;
  Deadline deadline_;
  Deadline read_limit_ = Deadline::max();  // a pipelining probe's window
  bool just_wrote_ = false;
};

}  // namespace socksify
