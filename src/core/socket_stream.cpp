#include "core/socket_stream.hpp"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "core/real.hpp"

namespace socksify {
namespace {

bool cancelled() {
  return t_handshake_cancelled != nullptr && t_handshake_cancelled->load(std::memory_order_acquire);
}

}  // namespace

Status wait_ready(int fd, short events, Deadline deadline) noexcept {
  for (;;) {
    if (cancelled()) return Errno{ECANCELED};
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Errno{ETIMEDOUT};
    pollfd p{fd, events, 0};
    const int n = REAL(poll)(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return Errno{errno};
  }
}

bool connected_at_once(int fd) noexcept {
  const int saved = errno;
  tcp_info info{};
  socklen_t info_len = sizeof info;
  const bool yes = REAL(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &info, &info_len) == 0 &&
                   info.tcpi_state == TCP_ESTABLISHED;
  errno = saved;
  return yes;
}

Status connect_within(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) noexcept {
  if (cancelled()) return Errno{ECANCELED};
  if (REAL(connect)(fd, addr, len) == 0) return {};
  if (errno == EINPROGRESS && connected_at_once(fd)) return {};
  if (errno != EINPROGRESS && errno != EINTR) return Errno{errno};
  if (auto w = wait_ready(fd, POLLOUT, deadline); !w) return w;
  int err = 0;
  socklen_t err_len = sizeof err;
  if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return Errno{errno};
  if (err != 0) return Errno{err};
  return {};
}

Result<std::size_t> SocketStream::read_some(std::span<std::byte> buf) {
  return receive(buf, 0);
}

Result<std::size_t> SocketStream::peek_some(std::span<std::byte> buf) {
  return receive(buf, MSG_PEEK);
}

Result<std::size_t> SocketStream::receive(std::span<std::byte> buf, int flags) {
  // Right after we sent something the proxy's answer cannot be here yet: wait
  // first instead of paying for a recv() that says EAGAIN.
  if (just_wrote_) {
    just_wrote_ = false;
    if (auto w = wait_ready(fd_, POLLIN, read_deadline()); !w) return w.error();
  }
  for (;;) {
    if (cancelled()) return Errno{ECANCELED};
    const ssize_t n = REAL(recv)(fd_, buf.data(), buf.size(), flags);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return Errno{ECONNRESET};  // the proxy closed mid-handshake
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Errno{errno};
    if (auto w = wait_ready(fd_, POLLIN, read_deadline()); !w) return w.error();
  }
}

Result<std::size_t> SocketStream::write_some(std::span<const std::byte> buf) {
  for (;;) {
    if (cancelled()) return Errno{ECANCELED};
    // MSG_NOSIGNAL: a proxy that hung up must be an error, not SIGPIPE.
    const ssize_t n = REAL(send)(fd_, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      just_wrote_ = true;
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Errno{errno};
    if (auto w = wait_ready(fd_, POLLOUT, deadline_); !w) return w.error();
  }
}

void SocketStream::limit_waits(std::chrono::milliseconds limit) {
  read_limit_ = limit.count() > 0 ? Clock::now() + limit : Deadline::max();
}

}  // namespace socksify
