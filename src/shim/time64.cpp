// glibc i386's second set of entry points: a 32-bit program built with
// -D_TIME_BITS=64 (and so -D_FILE_OFFSET_BITS=64) calls __select64, __ppoll64,
// __recvmsg64, __sendmsg64, __fcntl_time64 ... instead of select, ppoll, recvmsg,
// sendmsg, fcntl. Each is a symbol of its own, so without these hooks such a
// program would reach libc directly: its UDP datagrams would leave unwrapped and
// its pending connects would be polled behind our back. Where the layout is the
// same (msghdr, fcntl's argument) the hook is the 32-bit one under the other
// name; where it holds a 64-bit time (timeval, timespec) the hook converts and
// calls the 32-bit hook for descriptors we manage, and the real time64 function
// for every other call. Only built for i386 (x86-64 has one time_t).
#if defined(__i386__)

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <atomic>
#include <climits>
#include <cstdarg>
#include <cstdint>

#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

namespace {

using socksify::real::next_symbol_cached;

// glibc's struct __timeval64 and struct __timespec64 on i386 (little-endian:
// the nanoseconds are followed by 32 bits of padding).
struct Timeval64 {
  std::int64_t tv_sec;
  std::int64_t tv_usec;
};
struct Timespec64 {
  std::int64_t tv_sec;
  std::int32_t tv_nsec;
  std::int32_t padding;
};

using select64_fn = int (*)(int, fd_set*, fd_set*, fd_set*, Timeval64*);
using pselect64_fn = int (*)(int, fd_set*, fd_set*, fd_set*, const Timespec64*, const sigset_t*);
using ppoll64_fn = int (*)(pollfd*, nfds_t, const Timespec64*, const sigset_t*);
using recvmsg64_fn = ssize_t (*)(int, msghdr*, int);
using recvmmsg64_fn = int (*)(int, mmsghdr*, unsigned, int, Timespec64*);

std::atomic<select64_fn> g_select64{nullptr};
std::atomic<pselect64_fn> g_pselect64{nullptr};
std::atomic<ppoll64_fn> g_ppoll64{nullptr};
std::atomic<recvmsg64_fn> g_recvmsg64{nullptr};
std::atomic<recvmmsg64_fn> g_recvmmsg64{nullptr};

std::int32_t clamp_seconds(std::int64_t s) {
  return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : static_cast<std::int32_t>(s);
}
timespec narrow(const Timespec64& t) {
  return {clamp_seconds(t.tv_sec), t.tv_nsec};
}

bool managed(int fd) {
  return socksify::fd_table().get(fd) != nullptr && !socksify::ReentryGuard::active();
}

// Whether any descriptor we manage is among the first nfds of the sets: only
// then does the call need our select (the hook itself decides the rest).
bool sets_hold_managed(int nfds, const fd_set* r, const fd_set* w, const fd_set* e) {
  if (socksify::fd_table().live() == 0) return false;
  for (int fd = 0; fd < nfds && fd < FD_SETSIZE; ++fd) {
    if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) &&
        managed(fd)) {
      return true;
    }
  }
  return false;
}

bool fds_hold_managed(const pollfd* fds, nfds_t n) {
  if (fds == nullptr || socksify::fd_table().live() == 0) return false;
  for (nfds_t i = 0; i < n; ++i) {
    if (managed(fds[i].fd)) return true;
  }
  return false;
}

int no_symbol() {
  errno = ENOSYS;
  return -1;
}

}  // namespace

extern "C" {
int fcntl64(int fd, int cmd, ...);

SOCKSIFY_HOOK int __fcntl_time64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl64(fd, cmd, arg);
}

// Same layouts as the 32-bit calls: the same hooks under the time64 names.
SOCKSIFY_HOOK ssize_t __sendmsg64(int fd, const msghdr* msg, int flags) {
  return sendmsg(fd, msg, flags);
}
SOCKSIFY_HOOK int __sendmmsg64(int fd, mmsghdr* msgs, unsigned int n, int flags) {
  return sendmmsg(fd, msgs, n, flags);
}
SOCKSIFY_HOOK int __getsockopt64(int fd, int level, int name, void* value, socklen_t* len) {
  return getsockopt(fd, level, name, value, len);
}

SOCKSIFY_HOOK int __select64(int nfds, fd_set* r, fd_set* w, fd_set* e, Timeval64* tv) {
  if (!sets_hold_managed(nfds, r, w, e)) {
    auto real = next_symbol_cached("__select64", g_select64);
    return real ? real(nfds, r, w, e, tv) : no_symbol();
  }
  timeval narrow_tv{};
  if (tv) narrow_tv = {clamp_seconds(tv->tv_sec), static_cast<suseconds_t>(tv->tv_usec)};
  const int rc = select(nfds, r, w, e, tv ? &narrow_tv : nullptr);
  const int saved = errno;
  if (tv) *tv = {narrow_tv.tv_sec, narrow_tv.tv_usec};  // select reports the time left
  errno = saved;
  return rc;
}

SOCKSIFY_HOOK int __pselect64(int nfds, fd_set* r, fd_set* w, fd_set* e, const Timespec64* ts,
                              const sigset_t* mask) {
  if (!sets_hold_managed(nfds, r, w, e)) {
    auto real = next_symbol_cached("__pselect64", g_pselect64);
    return real ? real(nfds, r, w, e, ts, mask) : no_symbol();
  }
  const timespec narrow_ts = ts ? narrow(*ts) : timespec{};
  return pselect(nfds, r, w, e, ts ? &narrow_ts : nullptr, mask);
}

SOCKSIFY_HOOK int __ppoll64(pollfd* fds, nfds_t n, const Timespec64* ts, const sigset_t* mask) {
  if (!fds_hold_managed(fds, n)) {
    auto real = next_symbol_cached("__ppoll64", g_ppoll64);
    return real ? real(fds, n, ts, mask) : no_symbol();
  }
  const timespec narrow_ts = ts ? narrow(*ts) : timespec{};
  return ppoll(fds, n, ts ? &narrow_ts : nullptr, mask);
}

// recvmsg64 differs from recvmsg only in the control messages it converts
// (SO_TIMESTAMP*): a socket we manage gets our recvmsg, every other the real one.
SOCKSIFY_HOOK ssize_t __recvmsg64(int fd, msghdr* msg, int flags) {
  if (managed(fd)) return recvmsg(fd, msg, flags);
  auto real = next_symbol_cached("__recvmsg64", g_recvmsg64);
  return real ? real(fd, msg, flags) : no_symbol();
}

SOCKSIFY_HOOK int __recvmmsg64(int fd, mmsghdr* msgs, unsigned int n, int flags,
                               Timespec64* timeout) {
  if (!managed(fd)) {
    auto real = next_symbol_cached("__recvmmsg64", g_recvmmsg64);
    return real ? real(fd, msgs, n, flags, timeout) : no_symbol();
  }
  timespec narrow_ts = timeout ? narrow(*timeout) : timespec{};
  const int rc = recvmmsg(fd, msgs, n, flags, timeout ? &narrow_ts : nullptr);
  const int saved = errno;
  if (timeout) *timeout = {narrow_ts.tv_sec, static_cast<std::int32_t>(narrow_ts.tv_nsec), 0};
  errno = saved;
  return rc;
}
}  // extern "C"

#endif  // __i386__
