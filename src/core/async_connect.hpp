// Non-blocking connect() through the proxy without blocking the event loop.
//
// The program gets EINPROGRESS at once; a pool worker runs the handshake on its
// socket (a blocking connect() waits for the same job, interruptibly). Until the tunnel is ready,
// the readiness calls (poll, ppoll, select, pselect, epoll) must not report the socket writable, or
// the program would write into the middle of the handshake: they watch an eventfd in its place
// instead, and epoll registrations are held back and re-armed by the helper thread when it
// finishes. SO_ERROR then reports the SOCKS outcome.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

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

// Whether close() must go through close_pending: a handshake queued, running,
// or finishing (its outcome published, the worker still re-arming epoll
// registrations on the number).
inline bool has_handshake(const FdState* s) noexcept {
  return s->pending.load(std::memory_order_acquire) ||
         s->job.load(std::memory_order_acquire) != nullptr;
}

// dup2/dup3 onto, or close_range over, numbers in [first, last]: waits until no
// worker holds one of them (see close_pending). One atomic load when none does.
void wait_for_held(unsigned first, unsigned last) noexcept;

// The program closes a descriptor whose handshake may still run: forget its
// epoll registrations (the number may be reused) before the kernel frees it.
void forget_watchers(FdState* s) noexcept;

// For poll/select (core/pending_poll.cpp): the eventfd that stands in for a
// pending socket inside one poll(), made on first use, readable once the
// handshake is over. -1 when the handshake is already over (poll the socket
// itself) or no eventfd could be had. Each descriptor returned must be given
// back with release_done_fd(s) before the poll() returns to the program: the
// last one out closes it once the handshake is over.
int hold_done_fd(FdState* s) noexcept;
void release_done_fd(FdState* s) noexcept;

// epoll_ctl on a pending descriptor: registers it with readiness held back.
int epoll_ctl_pending(FdState* s, int epfd, int op, int fd, epoll_event* ev) noexcept;

}  // namespace socksify
