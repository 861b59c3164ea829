#include "core/tcp_connect.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>

#include "core/async_connect.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/trace.hpp"

namespace socksify {
namespace {

// connect() again on a socket we already tunnel (event loops ask again to learn
// the outcome; a blocking connect() a signal interrupted is called again):
// answer as the kernel would for a plain socket. nullopt when the earlier
// attempt failed and was reported, so a new attempt may start.
std::optional<Status> repeated_connect(int fd, FdState* s, FdState** wait) {
  if (s->connect.connecting()) {
    // A blocking socket waits for the attempt in progress, as the kernel's
    // connect() does; a non-blocking one is told it is still in progress.
    if (!s->connect.blocking()) return Status{Errno{EALREADY}};
    *wait = s;
    return Status{};
  }
  if (!s->connect.failed()) return Status{Errno{EISCONN}};
  if (const int e = s->connect.take_error(); e != 0) return Status{Errno{e}};
  fd_table().release(fd);
  return std::nullopt;
}

// A direct connect under -v: timed and traced (a non-blocking one reports
// its EINPROGRESS).
Status traced_direct(const Runtime& rt, int fd, const sockaddr* addr, socklen_t len,
                     const Endpoint& dst, const Route& route) {
  const auto start = trace::Clock::now();
  const int rc = REAL(connect)(fd, addr, len);
  const int err = rc == 0 ? 0 : errno;
  trace_unproxied(rt, dst, route, err, trace::ms_since(start));
  if (rc == 0) return {};
  return Errno{err};
}

void hold_signals(HeldSignals& held) {
  sigset_t all;
  sigfillset(&all);  // glibc leaves its own (cancellation, setxid) out
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &held.cancel_state);
  pthread_sigmask(SIG_BLOCK, &all, &held.mask);
  held.held = true;
}

// A pending signal, not blocked by the program, that interrupts a blocking
// call: a handler installed without SA_RESTART.
bool interrupting_signal_pending(const sigset_t& program_mask) {
  sigset_t pending;
  if (sigpending(&pending) != 0) return false;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&pending, sig) != 1 || sigismember(&program_mask, sig) == 1) continue;
    struct sigaction sa;
    if (sigaction(sig, nullptr, &sa) != 0) continue;
    const bool handled = (sa.sa_flags & SA_SIGINFO) != 0
                             ? sa.sa_sigaction != nullptr
                             : sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN;
    if (handled && (sa.sa_flags & SA_RESTART) == 0) return true;
  }
  return false;
}

// The handshake of a blocking connect() may run on the caller's thread.
bool runs_inline(const Runtime& rt, const Route& route) {
  return !trace::on() && session_replayable(rt, route.group);
}

}  // namespace

bool release_signals(HeldSignals& held, const FdState* s) noexcept {
  if (!held.held) return false;
  held.held = false;
  const bool interrupt =
      s != nullptr && s->connect.connecting() && interrupting_signal_pending(held.mask);
  int ignored;
  pthread_setcancelstate(held.cancel_state, &ignored);
  pthread_sigmask(SIG_SETMASK, &held.mask, nullptr);  // pending handlers run here
  return interrupt;
}

Status tcp_connect_wait(int fd, FdState* s) {
  const Status outcome = await_handshake(s);
  // A failure leaves a plain unconnected socket, as before: the program may
  // connect it again.
  if (!outcome && outcome.error().code != EINTR && fd_table().get(fd) == s) fd_table().release(fd);
  return outcome;
}

Status tcp_connect(int fd, const sockaddr* addr, socklen_t len, FdState** wait,
                   HeldSignals* held) noexcept {
  *wait = nullptr;
  auto dst = Endpoint::from_sockaddr(addr, len);
  if (!dst) {
    if (REAL(connect)(fd, addr, len) == 0) return {};
    return Errno{errno};
  }
  if (FdState* s = fd_table().get(fd); s != nullptr && s->kind == FdState::Kind::TcpTunnel) {
    if (auto answer = repeated_connect(fd, s, wait)) return *answer;
  } else if (s != nullptr) {
    // Another kind (bound for SOCKS BIND, say): its owner makes it a plain
    // socket again, then it connects as usual.
    if (Status undone = s->before_connect(fd); !undone) return undone;
  }
  Runtime& rt = Runtime::get();
  const Route route = route_for(rt, *dst);
  switch (route.kind) {
    case Route::Kind::Direct: {
      if (trace::on()) return traced_direct(rt, fd, addr, len, *dst, route);
      if (REAL(connect)(fd, addr, len) == 0) return {};
      return Errno{errno};
    }
    case Route::Kind::Refuse:
      if (trace::on()) trace_unproxied(rt, *dst, route, route.error, -1);
      return Errno{route.error};
    case Route::Kind::Proxy:
      break;
  }
  // Every proxied connect is a job for the worker pool; a blocking one waits
  // for it below holding no re-entry guard and having changed no flag of the
  // socket, so a signal handler may return, siglongjmp or cancel the thread
  // from the wait and leave nothing inconsistent behind. A blocking one whose
  // session is replayable runs it here first, for a short window, with its
  // signals held (connect_inline): done by then, it skips the pool entirely.
  FdState* s = nullptr;
  {
    ReentryGuard guard;
    if (!rt.configured()) {
      auto reply = open_session(fd, socks5::Command::Connect, route.target);  // logs, refuses
      return reply ? Status{} : Status{reply.error()};
    }
    const int flags = REAL(fcntl)(fd, F_GETFL);
    if (flags < 0) return Errno{errno};
    int family = AF_UNSPEC;
    if (Status prepared = prepare_socket(fd, addr->sa_family, route.group, &family); !prepared) {
      return prepared;
    }
    s = fd_table().create(fd, FdState::Kind::TcpTunnel);
    if (s == nullptr) return Errno{ENOBUFS};
    s->peer.set(addr, len);
    const bool blocking = !(flags & O_NONBLOCK);
    if (blocking && runs_inline(rt, route)) {
      // No handler may run inside the handshake (see HeldSignals); the hook
      // gives the signals back before it waits or returns.
      hold_signals(*held);
      if (connect_inline(fd, s, route.target, flags, family, route.group)) {
        *wait = s;
        return {};
      }
    }
    if (!start_async_connect(fd, s, route.target, blocking)) {
      fd_table().release(fd);
      log::error("connect to {}: no handshake worker could be started", *dst);
      return Errno{EAGAIN};
    }
    if (!blocking) return Errno{EINPROGRESS};
  }
  *wait = s;
  return {};
}

}  // namespace socksify
