// Non-blocking connect() through the proxy without blocking the event loop.
//
// The program gets EINPROGRESS at once; a helper thread runs the handshake on a
// dup of its socket. Until the tunnel is ready, the readiness calls (poll,
// ppoll, select, pselect, epoll) must not report the socket writable, or the
// program would write into the middle of the handshake: they watch an eventfd
// in its place instead, and epoll registrations are held back and re-armed by
// the helper thread when it finishes. SO_ERROR then reports the SOCKS outcome.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "base/endpoint.hpp"
#include "core/fd_table.hpp"

namespace socksify {

// True while any handshake runs: the readiness hooks' whole cost otherwise.
bool any_pending() noexcept;

// In a forked child: no handshake runs there (see FdTable::reset_in_child).
void forget_pending_in_child() noexcept;

// Starts the handshake for fd (whose state s is fresh). false when it could not
// start (no thread, no eventfd, an address family the dup cannot serve): the
// caller then runs the handshake synchronously.
bool start_async_connect(int fd, FdState* s, const Endpoint& target) noexcept;

// The program closes a descriptor whose handshake may still run: forget its
// epoll registrations (the number may be reused) before the kernel frees it.
void forget_watchers(FdState* s) noexcept;

// poll/ppoll with pending descriptors stood in for by their eventfds.
// timeout_ms is used when ts is null and !use_ppoll.
int poll_pending(pollfd* fds, nfds_t n, int timeout_ms, const timespec* ts,
                 const sigset_t* mask, bool use_ppoll) noexcept;

// select/pselect when some descriptor in the sets is pending (through poll).
int select_pending(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* ts,
                   const sigset_t* mask, bool use_pselect) noexcept;

// epoll_ctl on a pending descriptor: registers it with readiness held back.
int epoll_ctl_pending(FdState* s, int epfd, int op, int fd, epoll_event* ev) noexcept;

}  // namespace socksify
