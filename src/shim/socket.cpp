// socket(): every IPv4/IPv6 UDP socket gets a (still unassociated) state, so
// that datagram calls on descriptors we do not manage cost one bounds check and
// one load, with no getsockopt per datagram. Everything else passes through.
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/fd_table.hpp"
#include "core/errno_saver.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

SOCKSIFY_HOOK int socket(int domain, int type, int protocol) {
  using namespace socksify;
  const int fd = REAL(socket)(domain, type, protocol);
  if (fd < 0) return fd;
  const int base_type = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  const bool udp = (domain == AF_INET || domain == AF_INET6) && base_type == SOCK_DGRAM &&
                   (protocol == 0 || protocol == IPPROTO_UDP);
  if (udp && !ReentryGuard::active()) {
    ErrnoSaver keep;
    fd_table().create(fd, FdState::Kind::Udp);
  } else if (fd_table().get(fd) != nullptr) {
    // A fresh descriptor cannot have state: what is there was left by a close
    // we never saw (a libc-internal one); it must not leak onto this socket.
    fd_table().release(fd);
  }
  return fd;
}
