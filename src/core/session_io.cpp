#include "core/session_io.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>

#include "core/real.hpp"
#include "core/socket_family.hpp"

namespace socksify {

int SystemSessionIo::family(int fd) {
  return socket_family(fd);
}

int SystemSessionIo::status_flags(int fd) {
  return REAL(fcntl)(fd, F_GETFL);
}

void SystemSessionIo::set_status_flags(int fd, int flags) {
  REAL(fcntl)(fd, F_SETFL, flags);
}

// An AF_INET socket cannot reach an IPv6 proxy: put a socket of the proxy's
// family in its place, under the same descriptor number, with the options a
// program commonly sets carried over.
Status SystemSessionIo::replace_socket(int fd, int family) {
  const int nfd = REAL(socket)(family, SOCK_STREAM, IPPROTO_TCP);
  if (nfd < 0) return Errno{errno};
  static constexpr struct {
    int level, name;
  } kCarried[] = {{SOL_SOCKET, SO_KEEPALIVE}, {SOL_SOCKET, SO_RCVBUF}, {SOL_SOCKET, SO_SNDBUF},
                  {SOL_SOCKET, SO_LINGER},    {SOL_SOCKET, SO_MARK},   {IPPROTO_TCP, TCP_NODELAY}};
  for (const auto& o : kCarried) {
    char value[sizeof(linger)];
    socklen_t len = sizeof value;
    if (REAL(getsockopt)(fd, o.level, o.name, value, &len) == 0)
      setsockopt(nfd, o.level, o.name, value, len);
  }
  const int fd_flags = REAL(fcntl)(fd, F_GETFD);
  const int rc = REAL(dup3)(nfd, fd, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
  const int err = errno;
  REAL(close)(nfd);
  if (rc < 0) return Errno{err};
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
