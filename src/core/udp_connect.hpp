// connect() on a UDP socket: through the relay for a proxied destination (the
// socket is connected to the relay, and the program's destination is kept as
// its peer), straight for a Direct one, and AF_UNSPEC dissolves either.
#pragma once

#include <sys/socket.h>

#include "base/result.hpp"

namespace socksify {

Status udp_connect(int fd, const sockaddr* addr, socklen_t len);

}  // namespace socksify
