#include "core/tcp_connect.hpp"

#include <fcntl.h>

#include <cstring>

#include "core/async_connect.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/tcp_bind.hpp"

namespace socksify {
namespace {

// connect() again on a socket we already tunnel (event loops ask again to learn
// the outcome): answer as the kernel would for a plain socket. nullopt when the
// earlier attempt failed and was reported, so a new attempt may start.
std::optional<Status> repeated_connect(int fd, FdState* s) {
  if (s->pending.load(std::memory_order_acquire)) return Status{Errno{EALREADY}};
  if (s->connect_error == 0) return Status{Errno{EISCONN}};
  std::lock_guard lock(s->mu);
  if (!s->error_reported) {
    s->error_reported = true;
    return Status{Errno{s->connect_error}};
  }
  fd_table().release(fd);
  return std::nullopt;
}

void remember_peer(FdState* s, const sockaddr* addr, socklen_t len) {
  const socklen_t n = std::min<socklen_t>(len, sizeof s->peer);
  std::memcpy(&s->peer, addr, n);
  s->peer_len = n;
}

}  // namespace

Status tcp_connect(int fd, const sockaddr* addr, socklen_t len) noexcept {
  auto dst = Endpoint::from_sockaddr(addr, len);
  if (!dst) {
    if (REAL(connect)(fd, addr, len) == 0) return {};
    return Errno{errno};
  }
  if (FdState* s = fd_table().get(fd); s != nullptr && s->kind == FdState::Kind::TcpTunnel) {
    if (auto answer = repeated_connect(fd, s)) return *answer;
  } else if (s != nullptr) {
    // Bound for SOCKS BIND, but it connects: a plain socket again, then as usual.
    if (Status undone = tcp_bind_undo(fd); !undone) return undone;
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
  const int flags = REAL(fcntl)(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) && rt.configured() && prepare_socket(fd, addr->sa_family)) {
    // Event loop: hand the handshake to a helper thread, answer EINPROGRESS now.
    FdState* s = fd_table().create(fd, FdState::Kind::TcpTunnel);
    if (s != nullptr) {
      remember_peer(s, addr, len);
      if (start_async_connect(fd, s, route.target)) return Errno{EINPROGRESS};
      fd_table().release(fd);
    }
  }
  auto reply = open_session(fd, socks5::Command::Connect, route.target);
  if (!reply) return reply.error();
  if (FdState* s = fd_table().create(fd, FdState::Kind::TcpTunnel)) {
    remember_peer(s, addr, len);
    tcp_bind_remember_origin(s, reply->bound);
  }
  return {};
}

}  // namespace socksify
