// connect(): TCP and UDP to the proxy (and AF_UNSPEC on tracked UDP sockets);
// every other family and type untouched.
#include <sys/socket.h>

#include "core/dns_intercept.hpp"
#include "core/errno_saver.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/stream_sockets.hpp"
#include "core/tcp_connect.hpp"
#include "core/udp_connect.hpp"
#include "core/vfork_child.hpp"
#include "shim/export.hpp"

namespace {

// A blocking connect() waits for its handshake here, outside guarded(): the
// wait is a cancellation point, and pthread_cancel's unwinding cannot run our
// landing pads (see await_handshake), so this frame holds nothing to destroy
// and keeps errno by hand.
__attribute__((noinline)) int wait_for_tunnel(int fd, socksify::FdState* s) {
  const int saved = errno;
  const socksify::Status outcome = socksify::tcp_connect_wait(fd, s);
  if (outcome) {
    errno = saved;
    return 0;
  }
  errno = outcome.error().code;
  return -1;
}

}  // namespace

SOCKSIFY_HOOK int connect(int fd, const sockaddr* addr, socklen_t len) {
  using namespace socksify;
  if (ReentryGuard::active() || addr == nullptr || len < sizeof(sa_family_t)) {
    return REAL(connect)(fd, addr, len);
  }
  const FdState* state = fd_table().get(fd);
  const bool tracked_udp = state != nullptr && state->kind == FdState::Kind::Udp;
  // AF_UNSPEC dissolves a UDP socket's connection: our view of it too.
  const bool dissolve = addr->sa_family == AF_UNSPEC && tracked_udp;
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6 && !dissolve) {
    return REAL(connect)(fd, addr, len);
  }
  int type = tracked_udp ? SOCK_DGRAM : stream_sockets().is_stream(fd) ? SOCK_STREAM : 0;
  if (type == 0) {
    ErrnoSaver keep;
    socklen_t type_len = sizeof type;
    if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0) type = -1;
  }
  if (type != SOCK_STREAM && type != SOCK_DGRAM) return REAL(connect)(fd, addr, len);
  // A vfork child would record the tunnel (or start a helper thread) in the
  // parent's memory: fail closed (EPERM, as a local firewall rule would).
  if (keeping_errno([] { return refuse_in_vfork_child("connect()"); })) {
    errno = EPERM;
    return -1;
  }
  if (type == SOCK_DGRAM) return to_c(guarded<Status>([&] { return udp_connect(fd, addr, len); }));
  // A system resolver under remote DNS: our loopback listener answers.
  if (auto answered =
          guarded<std::optional<Status>>([&] { return dns_tcp_connect(fd, addr, len); })) {
    return to_c(*answered);
  }
  FdState* wait = nullptr;
  HeldSignals held;
  const int rc = to_c(guarded<Status>([&] { return tcp_connect(fd, addr, len, &wait, &held); }));
  if (held.held) {
    // The handshake ran on this thread with signals held: they are delivered
    // now, where the kernel's connect() could have been interrupted.
    const int e = errno;
    if (release_signals(held, wait)) {
      errno = EINTR;
      return -1;
    }
    errno = e;
  }
  if (wait == nullptr) return rc;
  return wait_for_tunnel(fd, wait);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(connect)
