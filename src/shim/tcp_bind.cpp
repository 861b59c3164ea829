// bind(), listen(), getsockname(), accept(), accept4(): the program's side of
// SOCKS BIND (src/core/tcp_bind.hpp). Untouched unless `bind on` made the
// socket a candidate: one fd-table load for everyone else.
#include "core/tcp_bind.hpp"

#include <sys/socket.h>

#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/stream_sockets.hpp"
#include "core/vfork_child.hpp"
#include "shim/export.hpp"

// On managed descriptors, a vfork child's listen/getsockname/accept at the
// proxy would change the parent's state (core/vfork_child.hpp): the child gets
// the kernel's answers for its own descriptor.

namespace {

// An accepted socket is of its listener's kind (connect() asks StreamSockets).
int accepted(int listener, int fd) {
  if (fd >= 0) socksify::stream_sockets().set(fd, socksify::stream_sockets().is_stream(listener));
  return fd;
}

}  // namespace

SOCKSIFY_HOOK int bind(int fd, const sockaddr* addr, socklen_t len) {
  using namespace socksify;
  if (ReentryGuard::active()) return REAL(bind)(fd, addr, len);
  ReentryGuard guard;
  return tcp_bind_bind(fd, addr, len);
}

SOCKSIFY_HOOK int listen(int fd, int backlog) {
  using namespace socksify;
  if (ReentryGuard::active() || fd_table().get(fd) == nullptr || in_vfork_child()) {
    return REAL(listen)(fd, backlog);
  }
  std::optional<Status> s = keeping_errno([&] { return tcp_bind_listen(fd); });
  return s ? to_c(*s) : REAL(listen)(fd, backlog);
}

SOCKSIFY_HOOK int getsockname(int fd, sockaddr* addr, socklen_t* len) {
  using namespace socksify;
  if (ReentryGuard::active() || fd_table().get(fd) == nullptr || in_vfork_child()) {
    return REAL(getsockname)(fd, addr, len);
  }
  std::optional<Status> s = keeping_errno([&] { return tcp_bind_sockname(fd, addr, len); });
  return s ? to_c(*s) : REAL(getsockname)(fd, addr, len);
}

SOCKSIFY_HOOK int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  using namespace socksify;
  if (ReentryGuard::active() || fd_table().get(fd) == nullptr || in_vfork_child()) {
    return accepted(fd, REAL(accept4)(fd, addr, len, flags));
  }
  std::optional<Result<int>> r =
      keeping_errno([&] { return tcp_bind_accept(fd, addr, len, flags); });
  if (!r) return accepted(fd, REAL(accept4)(fd, addr, len, flags));
  if (*r) return accepted(fd, r->value());
  errno = r->error().code;
  return -1;
}

SOCKSIFY_HOOK int accept(int fd, sockaddr* addr, socklen_t* len) {
  using namespace socksify;
  if (ReentryGuard::active() || fd_table().get(fd) == nullptr) {
    return accepted(fd, REAL(accept)(fd, addr, len));
  }
  return accept4(fd, addr, len, 0);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(bind)
SOCKSIFY_R_NAME(listen)
SOCKSIFY_R_NAME(getsockname)
SOCKSIFY_R_NAME(accept)
