// Non-blocking connect() through the proxy without blocking the event loop.
//
// The program gets EINPROGRESS at once; a pool worker runs the handshake on its
// socket (a blocking connect() waits for the same job, interruptibly). Until the tunnel is ready,
// the readiness calls (poll, ppoll, select, pselect, epoll) must not report the socket writable, or
// the program would write into the middle of the handshake: they watch an eventfd in its place
// instead, and epoll registrations are held back and re-armed by the helper thread when it
// finishes. SO_ERROR then reports the SOCKS outcome. The socket's side of all this (connecting,
// outcome, eventfd, held-back registrations) is its ConnectState (src/core/connect_state.hpp);
// this file is the pool of workers and the waits.
#pragma once

#include "base/endpoint.hpp"
#include "base/result.hpp"
#include "core/fd_table.hpp"

namespace socksify {

// True while any handshake runs: the readiness hooks' whole cost otherwise.
bool any_pending() noexcept;

// In a forked child: no handshake runs there (see FdTable::reset_in_child).
void forget_pending_in_child() noexcept;

// Starts the handshake for fd (whose state s is fresh) on a pool worker, which
// works on the program's descriptor number itself. false when no worker exists
// and none can be made (or memory ran out): connect() then fails (EAGAIN)
// rather than hold the caller for the handshake.
// blocking: a blocking connect() will wait for it (it may then have a worker
// beyond the cap: see kMaxWorkers).
bool start_async_connect(int fd, FdState* s, const Endpoint& target, bool blocking) noexcept;

// A blocking connect() of fd (state s fresh, file status flags `flags`, of
// `family`: the kernel takes only a sockaddr of the socket's own) whose
// session is replayable (session_replayable): runs it on this thread for up to
// kInlineWindow (core/inline_handshake.hpp), then, if it is not over, hands
// the rest to a pool worker. The caller blocks its signals and cancellation
// around this and then waits with await_handshake (which returns at once when
// the handshake ended here). false when out of memory (nothing was started).
bool connect_inline(int fd, FdState* s, const Endpoint& target, int flags, int family,
                    std::size_t group) noexcept;

// A blocking connect(): waits for s's handshake to end and returns its outcome
// (reported: SO_ERROR will not give it again). A signal ends the wait with
// EINTR unless its handler was installed with SA_RESTART, and the handshake
// goes on in the background, as a kernel connect() interrupted by a signal
// does (poll/SO_ERROR tell its end). A cancellation point: pthread_cancel()
// unwinds out of it (not noexcept on purpose).
Status await_handshake(FdState* s);

// The program closes fd, whose state s may have a handshake queued or running.
// Its epoll registrations are forgotten (the number may be reused). If fd is
// the socket's last descriptor the handshake is cancelled at once: the worker
// is woken (shutdown) and has stopped touching the number when this returns.
// true when fd must not be closed for real now: another descriptor goes on
// with the handshake, which works on this number; the worker closes it later.
bool close_pending(int fd, FdState* s) noexcept;

// dup2/dup3 onto, or close_range over, numbers in [first, last]: waits until no
// worker holds one of them (see close_pending). One atomic load when none does.
void wait_for_held(unsigned first, unsigned last) noexcept;

}  // namespace socksify
