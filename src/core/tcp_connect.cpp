#include "core/tcp_connect.hpp"

#include <cstring>

#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"

namespace socksify {

Status tcp_connect(int fd, const sockaddr* addr, socklen_t len) noexcept {
  auto dst = Endpoint::from_sockaddr(addr, len);
  if (!dst) {
    if (REAL(connect)(fd, addr, len) == 0) return {};
    return Errno{errno};
  }
  // A second connect() on a tunnel (event loops ask again to learn the outcome)
  // must not touch it: the kernel's own answer for a connected socket.
  if (FdState* s = fd_table().get(fd); s != nullptr && s->kind == FdState::Kind::TcpTunnel) {
    return Errno{EISCONN};
  }
  Runtime& rt = Runtime::get();
  const Route route = route_for(rt, *dst);
  switch (route.kind) {
    case Route::Kind::Direct:
      if (REAL(connect)(fd, addr, len) == 0) return {};
      return Errno{errno};
    case Route::Kind::Refuse:
      return Errno{route.error};
    case Route::Kind::Proxy:
      break;
  }
  ReentryGuard guard;
  auto reply = open_session(fd, socks5::Command::Connect, route.target);
  if (!reply) return reply.error();
  FdState* s = fd_table().create(fd, FdState::Kind::TcpTunnel);
  if (s != nullptr) {
    const socklen_t n = std::min<socklen_t>(len, sizeof s->peer);
    std::memcpy(&s->peer, addr, n);
    s->peer_len = n;
  }
  return {};
}

}  // namespace socksify
