// socket(): every IPv4/IPv6 UDP socket gets a (still unassociated) state, so
// that datagram calls on descriptors we do not manage cost one bounds check and
// one load, with no getsockopt per datagram. Everything else passes through.
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/errno_saver.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/stream_sockets.hpp"
#include "core/vfork_child.hpp"
#include "shim/export.hpp"

SOCKSIFY_HOOK int socket(int domain, int type, int protocol) {
  using namespace socksify;
  const int base_type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  const bool udp = (domain == AF_INET || domain == AF_INET6) && base_type == SOCK_DGRAM &&
                   (protocol == 0 || protocol == IPPROTO_UDP);
  // A vfork child's UDP socket could be tracked only in the parent's memory,
  // and untracked its datagrams would go around the proxy: refused.
  if (udp && !ReentryGuard::active() &&
      keeping_errno([] { return refuse_in_vfork_child("a UDP socket"); })) {
    errno = EACCES;
    return -1;
  }
  const int fd = REAL(socket)(domain, type, protocol);
  if (fd < 0) return fd;
  stream_sockets().set(fd, (domain == AF_INET || domain == AF_INET6) && base_type == SOCK_STREAM);
  if (udp && !ReentryGuard::active()) {
    ErrnoSaver keep;
    fd_table().create(fd, FdState::Kind::Udp);
  } else if (fd_table().get(fd) != nullptr && !in_vfork_child()) {
    // A fresh descriptor cannot have state: what is there was left by a close
    // we never saw (a libc-internal one); it must not leak onto this socket.
    // (In a vfork child, it is the parent's socket's state: left alone.)
    fd_table().release(fd);
  }
  return fd;
}
