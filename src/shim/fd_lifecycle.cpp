// close/dup/fcntl(F_DUPFD)/close_range: keep the descriptor table in step with
// the kernel's, so state follows a socket through dup and dies with its last fd.
// Unmanaged descriptors cost one bounds check and one load.
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "core/async_connect.hpp"
#include "core/fd_table.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

namespace {

using socksify::fd_table;

// After a successful dup onto `to`: `to` refers to from's socket now.
int after_dup(int from, int to) {
  if (to >= 0 && (fd_table().get(from) != nullptr || fd_table().get(to) != nullptr)) {
    fd_table().share(from, to);
  }
  return to;
}

int fcntl_common(int fd, int cmd, void* arg, bool large) {
  const int r = large ? REAL(fcntl64)(fd, cmd, arg) : REAL(fcntl)(fd, cmd, arg);
  if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) after_dup(fd, r);
  return r;
}

// close_range over pending sockets: each cancelled as by close() (the range
// is closed right after, so a number cannot be kept for another descriptor).
void cancel_pending_in(unsigned first, unsigned last) {
  const unsigned end = last < socksify::FdTable::kCapacity - 1u ? last : socksify::FdTable::kCapacity - 1u;
  for (unsigned fd = first; fd <= end && socksify::any_pending(); ++fd) {
    socksify::FdState* s = fd_table().get(static_cast<int>(fd));
    if (s != nullptr && socksify::has_handshake(s)) {
      if (socksify::close_pending(static_cast<int>(fd), s)) {
        socksify::wait_for_held(fd, fd);
      }
    }
  }
}

}  // namespace

SOCKSIFY_HOOK int close(int fd) {
  // Forget first: once the kernel frees the number, another thread may reuse it.
  if (socksify::FdState* s = fd_table().get(fd)) {
    // A handshake still running is cancelled (or, if another descriptor goes
    // on with it, keeps this number until it ends: see close_pending).
    const bool held = socksify::has_handshake(s) && socksify::close_pending(fd, s);
    fd_table().release(fd);
    if (held) return 0;
  }
  return REAL(close)(fd);
}

SOCKSIFY_HOOK int dup(int fd) { return after_dup(fd, REAL(dup)(fd)); }

// dup2/dup3 onto a descriptor close it first: a pending handshake on it is
// cancelled as by close(), and a number a worker still holds is waited for.
static void before_replace(int to) {
  if (to < 0) return;
  socksify::wait_for_held(static_cast<unsigned>(to), static_cast<unsigned>(to));
  socksify::FdState* s = fd_table().get(to);
  if (s != nullptr && socksify::has_handshake(s)) {
    // The number is reused at once by the dup, so it cannot be kept: any other
    // descriptor's handshake on it has to be waited for.
    if (socksify::close_pending(to, s)) socksify::wait_for_held(to, to);
  }
}

SOCKSIFY_HOOK int dup2(int from, int to) {
  if (from != to) before_replace(to);
  const int r = REAL(dup2)(from, to);
  return r >= 0 ? after_dup(from, r) : r;
}

SOCKSIFY_HOOK int dup3(int from, int to, int flags) {
  if (from != to) before_replace(to);
  const int r = REAL(dup3)(from, to, flags);
  return r >= 0 ? after_dup(from, r) : r;
}

// fcntl's third argument is an int or a pointer; reading it as a pointer is
// what libc itself does on every ABI we build for.
SOCKSIFY_HOOK int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_common(fd, cmd, arg, false);
}

SOCKSIFY_HOOK int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_common(fd, cmd, arg, true);
}

SOCKSIFY_HOOK int close_range(unsigned first, unsigned last, int flags) {
  if (!(flags & CLOSE_RANGE_CLOEXEC) && fd_table().live() > 0) {
    if (socksify::any_pending()) cancel_pending_in(first, last);
    socksify::wait_for_held(first, last);
    fd_table().release_range(first, last);
  }
  return REAL(close_range)(first, last, flags);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(close)
SOCKSIFY_R_NAME(dup)
SOCKSIFY_R_NAME(dup2)
