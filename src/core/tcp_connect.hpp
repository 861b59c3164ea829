// connect() on a TCP socket: decide the route, and for the proxy open the
// tunnel on the program's own socket and remember what it asked for.
#pragma once

#include <signal.h>
#include <sys/socket.h>

#include "base/result.hpp"

namespace socksify {

struct FdState;

// A blocking connect() that runs its handshake on the caller's thread
// (core/inline_handshake.hpp) does so with every signal blocked and
// cancellation disabled, so that no handler runs inside the handshake's frames
// (one that connects, siglongjmps or is a cancellation would find them half
// done); tcp_connect holds them here, the hook gives them back.
struct HeldSignals {
  bool held = false;
  int cancel_state = 0;
  sigset_t mask;  // the program's
};

// Gives back what tcp_connect held (when it did), outside any frame of ours
// that holds something to destroy: a pending handler runs now and may
// siglongjmp. true when connect() must fail with EINTR: its handshake went on
// to a worker (s still connecting) and a signal whose handler lacks SA_RESTART
// arrived meanwhile, which would have interrupted the kernel's connect().
bool release_signals(HeldSignals& held, const FdState* s) noexcept;

// The outcome for the program: Ok (connected, via the proxy or directly) or the
// errno to report. The handshake runs on a pool worker: a non-blocking socket
// gets EINPROGRESS at once. A blocking one may run it here first
// (connect_inline; *held then says what to give back with release_signals).
// For a blocking one *wait is set and the caller must then call tcp_connect_wait (outside any frame
// of its own that holds something to destroy: see await_handshake).
Status tcp_connect(int fd, const sockaddr* addr, socklen_t len, FdState** wait,
                   HeldSignals* held) noexcept;

// A blocking connect() waits for its handshake: the outcome, or EINTR if a
// signal interrupted the wait (the handshake then goes on, as the kernel's
// would). A cancellation point: not noexcept, pthread_cancel unwinds out of it.
Status tcp_connect_wait(int fd, FdState* s);

}  // namespace socksify
