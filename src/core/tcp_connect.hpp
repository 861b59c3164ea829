// connect() on a TCP socket: decide the route, and for the proxy open the
// tunnel on the program's own socket and remember what it asked for.
#pragma once

#include <sys/socket.h>

#include "base/result.hpp"

namespace socksify {

struct FdState;

// The outcome for the program: Ok (connected, via the proxy or directly) or the
// errno to report. The handshake runs on a pool worker: a non-blocking socket
// gets EINPROGRESS at once. For a blocking one *wait is set and the caller
// must then call tcp_connect_wait (outside any frame of its own that holds
// something to destroy: see await_handshake).
Status tcp_connect(int fd, const sockaddr* addr, socklen_t len, FdState** wait) noexcept;

// A blocking connect() waits for its handshake: the outcome, or EINTR if a
// signal interrupted the wait (the handshake then goes on, as the kernel's
// would). A cancellation point: not noexcept, pthread_cancel unwinds out of it.
Status tcp_connect_wait(int fd, FdState* s);

}  // namespace socksify
