#include "core/inline_handshake.hpp"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "core/real.hpp"

namespace socksify {
namespace {

// The window, not the session's own deadline, ended a wait that timed out.
bool window_closed(int code, Deadline window, Deadline deadline) {
  return code == ETIMEDOUT && window < deadline && Clock::now() >= window;
}

}  // namespace

// --- the caller's side ---

void RecordingStream::note_failure(const Errno& e) {
  if (window_closed(e.code, window_, deadline_) && !so_far_.overflow) {
    so_far_.phase = HandshakeSoFar::Phase::Talking;
  }
}

Result<std::size_t> RecordingStream::read_some(std::span<std::byte> buf) {
  auto n = inner_.read_some(buf);
  if (!n) {
    note_failure(n.error());
    return n;
  }
  const std::size_t got = std::min(*n, buf.size());
  if (so_far_.read + got > so_far_.replies.size()) {
    so_far_.overflow = true;  // not replayable: this session ends where it is
  } else {
    std::memcpy(so_far_.replies.data() + so_far_.read, buf.data(), got);
    so_far_.read += got;
  }
  return n;
}

Result<std::size_t> RecordingStream::peek_some(std::span<std::byte> buf) {
  auto n = inner_.peek_some(buf);
  if (!n) note_failure(n.error());
  return n;
}

Result<std::size_t> RecordingStream::write_some(std::span<const std::byte> buf) {
  auto n = inner_.write_some(buf);
  if (!n) {
    note_failure(n.error());
    return n;
  }
  so_far_.written += *n;
  return n;
}

void InlineSessionIo::set_status_flags(int fd, int flags) {
  // Handed off: the socket stays non-blocking for the worker, which restores
  // the program's flags at the end (ResumedSessionIo).
  if (so_far_.handed_off()) return;
  sys_.set_status_flags(fd, flags);
}

Status InlineSessionIo::connect(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) {
  so_far_.deadline = deadline;
  if (t_handshake_cancelled != nullptr && t_handshake_cancelled->load(std::memory_order_acquire)) {
    return Errno{ECANCELED};
  }
  if (REAL(connect)(fd, addr, len) == 0) return {};
  if (errno == EINPROGRESS) {
    if (connected_at_once(fd)) return {};
  } else if (errno != EINTR) {
    return Errno{errno};
  }
  // Still on its way: wait for it, cut at the window.
  Status c = wait_ready(fd, POLLOUT, std::min(window_, deadline));
  if (c) {
    int err = 0;
    socklen_t err_len = sizeof err;
    if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return Errno{errno};
    if (err != 0) return Errno{err};
    return {};
  }
  if (window_closed(c.error().code, window_, deadline)) {
    so_far_.phase = HandshakeSoFar::Phase::Connecting;  // the kernel goes on with it
  }
  return c;
}

socks5::Stream& InlineSessionIo::stream(int fd, Deadline deadline) {
  socket_.emplace(fd, std::min(window_, deadline));
  recording_.emplace(*socket_, so_far_, window_, deadline);
  return *recording_;
}

void InlineSessionIo::disconnect(int fd) {
  if (!so_far_.handed_off()) sys_.disconnect(fd);
}

// --- the worker's side ---

Result<std::size_t> ReplayStream::read_some(std::span<std::byte> buf) {
  if (replayed_ < so_far_.read) {
    const std::size_t n = std::min(buf.size(), so_far_.read - replayed_);
    std::memcpy(buf.data(), so_far_.replies.data() + replayed_, n);
    replayed_ += n;
    return n;
  }
  return inner_.read_some(buf);
}

Result<std::size_t> ReplayStream::peek_some(std::span<std::byte> buf) {
  if (replayed_ < so_far_.read) {
    const std::size_t n = std::min(buf.size(), so_far_.read - replayed_);
    std::memcpy(buf.data(), so_far_.replies.data() + replayed_, n);
    return n;
  }
  return inner_.peek_some(buf);
}

Result<std::size_t> ReplayStream::write_some(std::span<const std::byte> buf) {
  // The same session writes the same bytes again: those the caller sent are
  // taken as written.
  if (unsent_ > 0) {
    const std::size_t n = std::min(buf.size(), unsent_);
    unsent_ -= n;
    return n;
  }
  return inner_.write_some(buf);
}

void ResumedSessionIo::set_status_flags(int fd, int flags) {
  // The session first makes the socket non-blocking: the caller did already.
  if (nonblocking_ && flags == (so_far_.flags | O_NONBLOCK)) {
    nonblocking_ = false;
    return;
  }
  nonblocking_ = false;
  sys_.set_status_flags(fd, flags);
}

Status ResumedSessionIo::connect(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) {
  if (connected_) return connect_within(fd, addr, len, deadline);
  connected_ = true;
  if (so_far_.phase != HandshakeSoFar::Phase::Connecting) return {};
  // The caller's non-blocking connect is still in flight: its end.
  if (auto w = wait_ready(fd, POLLOUT, so_far_.deadline); !w) return w;
  int err = 0;
  socklen_t err_len = sizeof err;
  if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return Errno{errno};
  if (err != 0) return Errno{err};
  return {};
}

socks5::Stream& ResumedSessionIo::stream(int fd, Deadline deadline) {
  socket_.emplace(fd, std::min(deadline, so_far_.deadline));
  replay_.emplace(*socket_, so_far_);
  return *replay_;
}

}  // namespace socksify
