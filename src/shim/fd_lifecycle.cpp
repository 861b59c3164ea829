// close/dup/fcntl(F_DUPFD)/close_range/closefrom: keep the descriptor table in
// step with the kernel's, so state follows a socket through dup and dies with
// its last fd; and keep the program's hands off socksify's own descriptors
// (src/core/own_fds.hpp): to the program they are not open.
//
// Unmanaged descriptors cost one bounds check and two loads (the fd table's
// slot, and the lowest number socksify owns). A vfork child (shared memory,
// its own descriptor table) never changes that state: its close() must not
// make the parent forget its sockets (src/core/vfork_child.hpp).
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "core/async_connect.hpp"
#include "core/fd_table.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"
#include "core/stream_sockets.hpp"
#include "core/vfork_child.hpp"
#include "shim/export.hpp"

namespace {

using socksify::fd_table;
using socksify::own_fds;

// One of socksify's own descriptors: the program never opened it.
bool ours(int fd) {
  return own_fds().maybe_own(fd) && own_fds().is_own(fd);
}

int bad_descriptor() {
  errno = EBADF;
  return -1;
}

// After a successful dup onto `to`: `to` refers to from's socket now.
int after_dup(int from, int to) {
  if (to >= 0) socksify::stream_sockets().set(to, socksify::stream_sockets().is_stream(from));
  if (to >= 0 && (fd_table().get(from) != nullptr || fd_table().get(to) != nullptr) &&
      !socksify::in_vfork_child()) {
    fd_table().share(from, to);
  }
  return to;
}

// dup2/dup3 onto one of ours: ours moves away first, and the program gets the
// number it asked for. In a vfork child the descriptor is the child's copy:
// the parent's stays where it is, and so does the registry.
void make_room(int to) {
  if (own_fds().maybe_own(to) && !socksify::in_vfork_child()) own_fds().vacate(to);
}

int fcntl_common(int fd, int cmd, void* arg, bool large) {
  if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && ours(fd)) return bad_descriptor();
  const int r = large ? REAL(fcntl64)(fd, cmd, arg) : REAL(fcntl)(fd, cmd, arg);
  if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) after_dup(fd, r);
  return r;
}

// close_range over pending sockets: each cancelled as by close() (the range
// is closed right after, so a number cannot be kept for another descriptor).
void cancel_pending_in(unsigned first, unsigned last) {
  const unsigned end =
      last < socksify::FdTable::kCapacity - 1u ? last : socksify::FdTable::kCapacity - 1u;
  for (unsigned fd = first; fd <= end && socksify::any_pending(); ++fd) {
    socksify::FdState* s = fd_table().get(static_cast<int>(fd));
    if (s != nullptr && s->on_close(static_cast<int>(fd))) socksify::wait_for_held(fd, fd);
  }
}

// dup2/dup3 onto a descriptor close it first: a pending handshake on it is
// cancelled as by close(), and a number a worker still holds is waited for.
void before_replace(int to) {
  if (to < 0) return;
  socksify::wait_for_held(static_cast<unsigned>(to), static_cast<unsigned>(to));
  socksify::FdState* s = fd_table().get(to);
  // The number is reused at once by the dup, so it cannot be kept: any other
  // descriptor's handshake on it has to be waited for.
  if (s != nullptr && s->on_close(to)) socksify::wait_for_held(to, to);
}

// close_range/closefrom over [first, last]: the table forgets the range, and
// the kernel closes it around our descriptors. false when the kernel's call
// is still to be made (nothing of ours in the range, or a vfork child).
bool close_range_around_ours(unsigned first, unsigned last, int flags, int& rc) {
  const bool table = fd_table().live() > 0;
  const bool own = own_fds().maybe_own_in(first, last);
  if (!table && !own) return false;
  if (socksify::in_vfork_child()) return false;
  if (table) {
    if (socksify::any_pending()) cancel_pending_in(first, last);
    socksify::wait_for_held(first, last);
    fd_table().release_range(first, last);
  }
  if (!own) return false;
  rc = own_fds().close_range_sparing(first, last, flags);
  return true;
}

// Out of line: the unmanaged path of close() then needs no saved registers.
[[gnu::noinline]] int close_managed(int fd, socksify::FdState* s) {
  // Forget first: once the kernel frees the number, another thread may reuse it.
  if (!socksify::in_vfork_child()) {
    // A handshake still running is cancelled (or, if another descriptor goes
    // on with it, keeps this number until it ends: see close_pending).
    const bool held = s->on_close(fd);
    fd_table().release(fd);
    if (held) return 0;
  }
  return REAL(close)(fd);
}

}  // namespace

SOCKSIFY_HOOK int close(int fd) {
  if (own_fds().maybe_own(fd)) [[unlikely]] {
    if (own_fds().is_own(fd)) return bad_descriptor();
  }
  socksify::stream_sockets().forget(fd);
  if (socksify::FdState* s = fd_table().get(fd)) [[unlikely]]
    return close_managed(fd, s);
  return REAL(close)(fd);
}

SOCKSIFY_HOOK int dup(int fd) {
  if (ours(fd)) return bad_descriptor();
  return after_dup(fd, REAL(dup)(fd));
}

SOCKSIFY_HOOK int dup2(int from, int to) {
  if (ours(from)) return bad_descriptor();
  if (from != to && !socksify::in_vfork_child()) before_replace(to);
  make_room(to);
  const int r = REAL(dup2)(from, to);
  return r >= 0 ? after_dup(from, r) : r;
}

SOCKSIFY_HOOK int dup3(int from, int to, int flags) {
  if (ours(from)) return bad_descriptor();
  if (from != to && !socksify::in_vfork_child()) before_replace(to);
  make_room(to);
  const int r = REAL(dup3)(from, to, flags);
  return r >= 0 ? after_dup(from, r) : r;
}

// fcntl and fcntl64 differ only in the real function they end in. The third
// argument is an int or a pointer; reading it as a pointer is what libc itself
// does on every ABI we build for.
#define SOCKSIFY_FCNTL_HOOK(NAME, LARGE)         \
  SOCKSIFY_HOOK int NAME(int fd, int cmd, ...) { \
    va_list ap;                                  \
    va_start(ap, cmd);                           \
    void* arg = va_arg(ap, void*);               \
    va_end(ap);                                  \
    return fcntl_common(fd, cmd, arg, LARGE);    \
  }
SOCKSIFY_FCNTL_HOOK(fcntl, false)
SOCKSIFY_FCNTL_HOOK(fcntl64, true)
#undef SOCKSIFY_FCNTL_HOOK

SOCKSIFY_HOOK int close_range(unsigned first, unsigned last, int flags) {
  if (!(flags & CLOSE_RANGE_CLOEXEC)) socksify::stream_sockets().forget_range(first, last);
  int rc = 0;
  if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last &&
      close_range_around_ours(first, last, flags, rc)) {
    return rc;
  }
  return REAL(close_range)(first, last, flags);
}

// glibc's closefrom() closes through its internal close_range, past our hook.
SOCKSIFY_HOOK void closefrom(int lowfd) {
  const unsigned first = lowfd < 0 ? 0u : static_cast<unsigned>(lowfd);
  socksify::stream_sockets().forget_range(first, ~0u);
  int rc = 0;
  if (close_range_around_ours(first, ~0u, 0, rc) && rc == 0) return;
  // No close_range in this kernel (or nothing of ours): libc's own way.
  REAL(closefrom)(lowfd);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(close)
SOCKSIFY_R_NAME(dup)
SOCKSIFY_R_NAME(dup2)
