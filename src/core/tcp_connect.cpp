#include "core/tcp_connect.hpp"

#include <fcntl.h>

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

}  // namespace

Status tcp_connect_wait(int fd, FdState* s) {
  const Status outcome = await_handshake(s);
  // A failure leaves a plain unconnected socket, as before: the program may
  // connect it again.
  if (!outcome && outcome.error().code != EINTR && fd_table().get(fd) == s) fd_table().release(fd);
  return outcome;
}

Status tcp_connect(int fd, const sockaddr* addr, socklen_t len, FdState** wait) noexcept {
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
  // from the wait and leave nothing inconsistent behind.
  FdState* s = nullptr;
  {
    ReentryGuard guard;
    if (!rt.configured()) {
      auto reply = open_session(fd, socks5::Command::Connect, route.target);  // logs, refuses
      return reply ? Status{} : Status{reply.error()};
    }
    const int flags = REAL(fcntl)(fd, F_GETFL);
    if (flags < 0) return Errno{errno};
    if (Status prepared = prepare_socket(fd, addr->sa_family, route.group); !prepared) {
      return prepared;
    }
    s = fd_table().create(fd, FdState::Kind::TcpTunnel);
    if (s == nullptr) return Errno{ENOBUFS};
    s->peer.set(addr, len);
    const bool blocking = !(flags & O_NONBLOCK);
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
