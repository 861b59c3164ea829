// connect() on a TCP socket: decide the route, and for the proxy open the
// tunnel on the program's own socket and remember what it asked for.
#pragma once

#include <sys/socket.h>

#include "base/result.hpp"

namespace socksify {

// The outcome for the program: Ok (connected, via the proxy or directly) or the
// errno to report. Blocking and non-blocking sockets alike get a finished
// tunnel: the handshake runs before connect() returns, with a deadline.
Status tcp_connect(int fd, const sockaddr* addr, socklen_t len) noexcept;

}  // namespace socksify
