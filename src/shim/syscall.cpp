// syscall(): some libraries make socket calls through it rather than through
// libc's wrappers (libuv 1.44, used by BIND's dig, sends and receives UDP with
// syscall(__NR_sendmmsg / __NR_recvmmsg)). Those calls on descriptors we track
// go to our hooks, so a datagram can neither leave unwrapped nor arrive with
// its relay header; so do close, close_range and dup2/dup3 (programs written
// before libc had close_range call it this way), which must keep our table
// in step and our own descriptors out of reach. Every other call, and every
// other descriptor, passes straight through.
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/fd_table.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

SOCKSIFY_HOOK long syscall(long number, ...) {
  // The kernel takes at most six arguments; libc's own wrapper reads six too.
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  switch (number) {
    case SYS_sendmmsg:
    case SYS_recvmmsg:
    case SYS_sendmsg:
    case SYS_recvmsg:
    case SYS_sendto:
    case SYS_recvfrom:
    case SYS_connect:
      break;
    case SYS_close:
      return close(static_cast<int>(a[0]));
    case SYS_close_range:
      return close_range(static_cast<unsigned>(a[0]), static_cast<unsigned>(a[1]),
                         static_cast<int>(a[2]));
#ifdef SYS_dup2
    case SYS_dup2:
      return dup2(static_cast<int>(a[0]), static_cast<int>(a[1]));
#endif
    case SYS_dup3:
      return dup3(static_cast<int>(a[0]), static_cast<int>(a[1]), static_cast<int>(a[2]));
    default:
      return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  const int fd = static_cast<int>(a[0]);
  // connect() decides for every descriptor (TCP sockets are not in the table
  // until then): a raw connect must not become a way around the proxy.
  if (number != SYS_connect && socksify::fd_table().get(fd) == nullptr) {
    return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  auto p = [&](int i) { return reinterpret_cast<void*>(a[i]); };
  switch (number) {
    case SYS_sendmmsg:
      return sendmmsg(fd, static_cast<mmsghdr*>(p(1)), static_cast<unsigned>(a[2]),
                      static_cast<int>(a[3]));
    case SYS_recvmmsg:
      return recvmmsg(fd, static_cast<mmsghdr*>(p(1)), static_cast<unsigned>(a[2]),
                      static_cast<int>(a[3]), static_cast<timespec*>(p(4)));
    case SYS_sendmsg:
      return sendmsg(fd, static_cast<const msghdr*>(p(1)), static_cast<int>(a[2]));
    case SYS_recvmsg:
      return recvmsg(fd, static_cast<msghdr*>(p(1)), static_cast<int>(a[2]));
    case SYS_sendto:
      return sendto(fd, p(1), static_cast<size_t>(a[2]), static_cast<int>(a[3]),
                    static_cast<const sockaddr*>(p(4)), static_cast<socklen_t>(a[5]));
    case SYS_recvfrom:
      return recvfrom(fd, p(1), static_cast<size_t>(a[2]), static_cast<int>(a[3]),
                      static_cast<sockaddr*>(p(4)), static_cast<socklen_t*>(p(5)));
    case SYS_connect:
      return connect(fd, static_cast<const sockaddr*>(p(1)), static_cast<socklen_t>(a[2]));
    default:
      break;
  }
  return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
