// poll/ppoll/select/pselect/epoll_ctl: while a non-blocking connect's handshake
// runs, the socket must not look writable. With no handshake running (nearly
// always) each call costs one atomic load.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "core/async_connect.hpp"
#include "core/fd_table.hpp"
#include "core/pending_poll.hpp"
#include "core/real.hpp"
#include "core/vfork_child.hpp"
#include "shim/export.hpp"

namespace {

// select's descriptors include a pending one (checked only while any runs).
bool sets_hold_pending(int nfds, const fd_set* r, const fd_set* w, const fd_set* e) {
  const int limit = nfds < FD_SETSIZE ? nfds : FD_SETSIZE;
  for (int fd = 0; fd < limit; ++fd) {
    const bool asked = (r != nullptr && FD_ISSET(fd, r)) || (w != nullptr && FD_ISSET(fd, w)) ||
                       (e != nullptr && FD_ISSET(fd, e));
    if (!asked) continue;
    const socksify::FdState* s = socksify::fd_table().get(fd);
    if (s != nullptr && s->connecting()) return true;
  }
  return false;
}

}  // namespace

// A vfork child polling the parent's pending sockets gets the kernel's view:
// the eventfd poll_pending would make is the child's (gone at its exec) and
// would be recorded in the parent's state.
SOCKSIFY_HOOK int poll(pollfd* fds, nfds_t n, int timeout) {
  if (!socksify::any_pending() || socksify::in_vfork_child()) return REAL(poll)(fds, n, timeout);
  return socksify::poll_pending(fds, n, timeout, nullptr, nullptr, false);
}

SOCKSIFY_HOOK int ppoll(pollfd* fds, nfds_t n, const timespec* ts, const sigset_t* mask) {
  if (!socksify::any_pending() || socksify::in_vfork_child()) {
    return REAL(ppoll)(fds, n, ts, mask);
  }
  return socksify::poll_pending(fds, n, -1, ts, mask, true);
}

SOCKSIFY_HOOK int select(int nfds, fd_set* r, fd_set* w, fd_set* e, timeval* tv) {
  if (!socksify::any_pending() || !sets_hold_pending(nfds, r, w, e) || socksify::in_vfork_child()) {
    return REAL(select)(nfds, r, w, e, tv);
  }
  timespec ts;
  if (tv != nullptr) ts = {tv->tv_sec, tv->tv_usec * 1000};
  return socksify::select_pending(nfds, r, w, e, tv != nullptr ? &ts : nullptr, nullptr);
}

SOCKSIFY_HOOK int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* ts,
                          const sigset_t* mask) {
  if (!socksify::any_pending() || !sets_hold_pending(nfds, r, w, e) || socksify::in_vfork_child()) {
    return REAL(pselect)(nfds, r, w, e, ts, mask);
  }
  return socksify::select_pending(nfds, r, w, e, ts, mask);
}

SOCKSIFY_HOOK int epoll_ctl(int epfd, int op, int fd, epoll_event* ev) {
  socksify::FdState* s = socksify::fd_table().get(fd);
  if (s == nullptr || !s->connecting() || socksify::in_vfork_child()) {
    return REAL(epoll_ctl)(epfd, op, fd, ev);
  }
  return s->connect.epoll_ctl(epfd, op, fd, ev);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(poll)
SOCKSIFY_R_NAME(select)
