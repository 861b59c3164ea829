// poll/ppoll/select/pselect while non-blocking connects are in their handshake
// (core/async_connect.hpp): each pending socket in the call is stood in for by
// its handshake's eventfd, so it is reported writable only once the tunnel is
// ready, however many of them one call holds.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

namespace socksify {

// poll/ppoll with pending descriptors stood in for by their eventfds.
// timeout_ms is used when !use_ppoll. Not noexcept: poll is a cancellation
// point, and pthread_cancel's forced unwind must pass (the stand-ins are put
// back on the way out).
int poll_pending(pollfd* fds, nfds_t n, int timeout_ms, const timespec* ts, const sigset_t* mask,
                 bool use_ppoll);

// select/pselect when some descriptor in the sets is pending (through ppoll,
// every descriptor below FD_SETSIZE).
int select_pending(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* ts,
                   const sigset_t* mask);

}  // namespace socksify
