// The address family of a socket, asked of the kernel (SO_DOMAIN) through the
// real getsockopt, so it works inside hooks and on any descriptor.
#pragma once

#include <sys/socket.h>

#include "core/real.hpp"

namespace socksify {

// AF_INET, AF_INET6, AF_UNIX, ...; AF_UNSPEC when fd is not a socket (or not open).
inline int socket_family(int fd) {
  int domain = AF_UNSPEC;
  socklen_t len = sizeof domain;
  if (REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return AF_UNSPEC;
  return domain;
}

}  // namespace socksify
