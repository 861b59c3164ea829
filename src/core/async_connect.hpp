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
