#include "core/session_io.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstring>

#include "core/real.hpp"
#include "core/socket_family.hpp"

namespace socksify {

int SystemSessionIo::family(int fd) {
  return known_family_ != AF_UNSPEC ? known_family_ : socket_family(fd);
}

int SystemSessionIo::status_flags(int fd) {
  return known_flags_ >= 0 ? known_flags_ : REAL(fcntl)(fd, F_GETFL);
}

void SystemSessionIo::set_status_flags(int fd, int flags) {
  if (known_flags_ >= 0) known_flags_ = flags;
  REAL(fcntl)(fd, F_SETFL, flags);
}

// An AF_INET socket cannot reach an IPv6 proxy: put a socket of the proxy's
// family in its place, under the same descriptor number, with the options a
// program commonly sets carried over. Only an option whose value differs from
// the fresh socket's is set: setting SO_RCVBUF/SO_SNDBUF at all turns off the
// kernel's buffer auto-tuning (a download then runs at the default window),
// and the kernel reports those two doubled, so they are set back at half.
Status SystemSessionIo::replace_socket(int fd, int family) {
  const int nfd = REAL(socket)(family, SOCK_STREAM, IPPROTO_TCP);
  if (nfd < 0) return Errno{errno};
  static constexpr struct {
    int level, name;
  } kCarried[] = {{SOL_SOCKET, SO_KEEPALIVE}, {SOL_SOCKET, SO_RCVBUF}, {SOL_SOCKET, SO_SNDBUF},
                  {SOL_SOCKET, SO_LINGER},    {SOL_SOCKET, SO_MARK},   {IPPROTO_TCP, TCP_NODELAY}};
  for (const auto& o : kCarried) {
    char value[sizeof(linger)] = {};
    char fresh[sizeof(linger)] = {};
    socklen_t len = sizeof value;
    socklen_t fresh_len = sizeof fresh;
    if (REAL(getsockopt)(fd, o.level, o.name, value, &len) != 0) continue;
    if (REAL(getsockopt)(nfd, o.level, o.name, fresh, &fresh_len) == 0 && fresh_len == len &&
        std::memcmp(value, fresh, len) == 0) {
      continue;
    }
    if (o.level == SOL_SOCKET && (o.name == SO_RCVBUF || o.name == SO_SNDBUF) &&
        len == sizeof(int)) {
      int size = 0;
      std::memcpy(&size, value, sizeof size);
      size /= 2;
      std::memcpy(value, &size, sizeof size);
    }
    setsockopt(nfd, o.level, o.name, value, len);
  }
  const int fd_flags = REAL(fcntl)(fd, F_GETFD);
  const int rc = REAL(dup3)(nfd, fd, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
  const int err = errno;
  REAL(close)(nfd);
  if (rc < 0) return Errno{err};
  if (known_family_ != AF_UNSPEC) known_family_ = family;
  return {};
}

Status SystemSessionIo::connect(int fd, const sockaddr* addr, socklen_t len, Deadline deadline) {
  return connect_within(fd, addr, len, deadline);
}

socks5::Stream& SystemSessionIo::stream(int fd, Deadline deadline) {
  stream_.emplace(fd, deadline);
  return *stream_;
}

// Linux: connect() with AF_UNSPEC dissolves a TCP socket's connection.
void SystemSessionIo::disconnect(int fd) {
  sockaddr sa{};
  sa.sa_family = AF_UNSPEC;
  REAL(connect)(fd, &sa, sizeof sa);
}

}  // namespace socksify
