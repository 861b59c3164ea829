// The BIND part of a socket's state (FdState::bind, src/core/fd_state.hpp):
// a TCP socket bound for SOCKS BIND (src/core/tcp_bind.hpp), a candidate
// (Kind::TcpBindCandidate) until listen/getsockname opens the BIND at the
// proxy (Kind::TcpBind). Only src/core/tcp_bind.cpp calls these.
#pragma once

#include <sys/socket.h>

#include "base/sockaddr_copy.hpp"

namespace socksify {

class BindState {
 public:
  // A fresh state: nothing bound, no BIND opened or failed.
  void reset() noexcept {
    bound_len_ = 0;
    listen_len_ = 0;
    open_error_ = 0;
  }

  // bind(): the address the program bound (to bind again if it connects
  // instead of listening), as it passed it.
  void remember_bound(const sockaddr* addr, socklen_t len) noexcept {
    bound_len_ = store_sockaddr(bound_, addr, len);
  }
  const sockaddr_storage& bound() const noexcept { return bound_; }
  socklen_t bound_len() const noexcept { return bound_len_; }
  int family() const noexcept { return bound_.ss_family; }

  // The BIND is open: the proxy listens at addr (the socket's family), which
  // getsockname answers with.
  void listening_at(const sockaddr_storage& addr, socklen_t len) noexcept {
    listen_len_ = store_sockaddr(listen_, &addr, len);
  }
  const sockaddr_storage& listen_address() const noexcept { return listen_; }
  socklen_t listen_len() const noexcept { return listen_len_; }

  // Opening the BIND failed with err and said so: not tried (or logged) again.
  void open_failed(int err) noexcept { open_error_ = err; }
  int open_error() const noexcept { return open_error_; }

 private:
  sockaddr_storage bound_{};
  socklen_t bound_len_ = 0;
  sockaddr_storage listen_{};
  socklen_t listen_len_ = 0;
  int open_error_ = 0;
};

}  // namespace socksify
