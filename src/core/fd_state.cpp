// The head's dispatch: which part's owner answers for a socket of each kind.
#include "core/fd_state.hpp"

#include <errno.h>

#include "core/async_connect.hpp"
#include "core/tcp_bind.hpp"

namespace socksify {

std::optional<int> FdState::take_connect_error() noexcept {
  if (kind != Kind::TcpTunnel) return std::nullopt;
  if (connect.connecting()) return 0;  // like the kernel: no error yet
  if (const int e = connect.take_error(); e != 0) return e;
  return std::nullopt;
}

std::optional<Status> FdState::peer_name(sockaddr* addr, socklen_t* len) const noexcept {
  // A listener (at the proxy) has no peer.
  if (kind == Kind::TcpBind) return Status{Errno{ENOTCONN}};
  if (!peer.known() || addr == nullptr || len == nullptr) return std::nullopt;
  // Still connecting, or the proxy said no: there is no peer, as for any socket.
  if (kind == Kind::TcpTunnel && (connect.connecting() || connect.failed())) {
    return Status{Errno{ENOTCONN}};
  }
  peer.copy_out(addr, len);
  return Status{};
}

Status FdState::before_connect(int fd) noexcept {
  switch (kind) {
    case Kind::TcpBindCandidate:
    case Kind::TcpBind:
      return tcp_bind_before_connect(fd);
    case Kind::TcpTunnel:
    case Kind::Udp:
    case Kind::DnsTcp:  // connected already: the kernel says EISCONN
      break;
  }
  return {};
}

bool FdState::on_close(int fd) noexcept {
  return kind == Kind::TcpTunnel && connect.has_handshake() && close_pending(fd, this);
}

}  // namespace socksify
