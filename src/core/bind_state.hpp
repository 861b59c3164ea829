// The BIND part of a socket's state (FdState::bind, src/core/fd_state.hpp):
// a TCP socket bound for SOCKS BIND (src/core/tcp_bind.hpp), a candidate
// (Kind::TcpBindCandidate) until listen/getsockname opens the BIND at the
// proxy (Kind::TcpBind). Only src/core/tcp_bind.cpp calls these.
#pragma once

#include <sys/socket.h>

#include "core/socket_name.hpp"

namespace socksify {

class BindState {
 public:
  // A fresh state: nothing bound, no BIND opened or failed.
  void reset() noexcept {
    bound_.clear();
    listen_.clear();
    open_error_ = 0;
  }

  // bind(): the address the program bound (to bind again if it connects
  // instead of listening), as it passed it.
  void remember_bound(const sockaddr* addr, socklen_t len) noexcept { bound_.set(addr, len); }
  const SocketName& bound() const noexcept { return bound_; }
  int family() const noexcept { return bound_.family(); }

  // The BIND is open: the proxy listens at `at` (as the socket's family shows
  // it), which getsockname answers with.
  void listening_at(const SocketName& at) noexcept { listen_ = at; }
  const SocketName& listen_address() const noexcept { return listen_; }

  // Opening the BIND failed with err and said so: not tried (or logged) again.
  void open_failed(int err) noexcept { open_error_ = err; }
  int open_error() const noexcept { return open_error_; }

 private:
  SocketName bound_;
  SocketName listen_;
  int open_error_ = 0;
};

}  // namespace socksify
