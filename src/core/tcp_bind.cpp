#include "core/tcp_bind.hpp"

#include <fcntl.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/endpoint.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/vfork_child.hpp"
#include "socks5/codec.hpp"

namespace socksify {
namespace {

// `replacement` takes fd's place: same descriptor number, same close-on-exec and
// non-blocking flags. replacement is closed in any case.
Status swap_in(int fd, int replacement) {
  const int status_flags = REAL(fcntl)(fd, F_GETFL);
  const int fd_flags = REAL(fcntl)(fd, F_GETFD);
  if (status_flags >= 0 && (status_flags & O_NONBLOCK) != 0) {
    REAL(fcntl)(replacement, F_SETFL, REAL(fcntl)(replacement, F_GETFL) | O_NONBLOCK);
  }
  const int r =
      REAL(dup3)(replacement, fd, fd_flags >= 0 && (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
  const int e = errno;
  REAL(close)(replacement);
  if (r < 0) return Errno{e};
  return {};
}

// A fresh TCP socket of addr's family, bound to addr (port 0: never in conflict).
Result<int> fresh_socket(const SocketName& addr) {
  const int q = REAL(socket)(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (q < 0) return Errno{errno};
  if (REAL(bind)(q, addr.addr(), addr.size()) != 0) {
    const int e = errno;
    REAL(close)(q);
    return Errno{e};
  }
  return q;
}

// The BIND request: a connection to the proxy replaces the program's socket,
// and the proxy's first reply says where it listens.
Status open_bind(int fd, FdState* s) {
  const int family = s->bind.family();
  const auto shown = s->bind.bound().endpoint();
  // RFC 1928 §4: DST would be the expected peer, which a listener does not know
  // yet: the unspecified address, which proxies take as "any".
  const Endpoint any = family == AF_INET6 ? Endpoint::ipv6(std::array<std::uint8_t, 16>{}, 0)
                                          : Endpoint::ipv4(std::array<std::uint8_t, 4>{}, 0);
  const int p = REAL(socket)(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (p < 0) return Errno{errno};
  auto reply = open_session(p, socks5::Command::Bind, any, /*may_replace_socket=*/true,
                            shown ? &*shown : nullptr);
  if (!reply) {
    REAL(close)(p);
    s->bind.open_failed(reply.error().code);  // getsockname no longer tries (see there)
    return reply.error();
  }
  Endpoint where = reply->bound;
  if (!where.is_ip() || where.is_unspecified()) {
    // An unspecified BND.ADDR means the proxy's own address (the one we reached).
    sockaddr_storage proxy{};
    socklen_t proxy_len = sizeof proxy;
    if (REAL(getpeername)(p, reinterpret_cast<sockaddr*>(&proxy), &proxy_len) == 0) {
      if (auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&proxy), proxy_len)) {
        const std::uint16_t port = where.port();
        where = ep->unmapped();
        where.set_port(port);
      }
    }
  }
  SocketName local;
  if (!local.set(where, family)) {
    REAL(close)(p);
    log::error("listen at {}: the proxy's BIND reply names no address", where);
    return Errno{EPROTO};
  }
  if (Status swapped = swap_in(fd, p); !swapped) return swapped;
  s->bind.listening_at(local);
  s->kind = FdState::Kind::TcpBind;
  if (log::enabled(LogLevel::Debug)) log::debug("fd {} listens at the proxy: {}", fd, where);
  return {};
}

// The proxy's second reply (RFC 1928 §4): sent when the peer connected, with its
// address. Read exactly its bytes: what follows is the peer's data.
Result<socks5::Reply> second_reply(int fd) {
  const int status_flags = REAL(fcntl)(fd, F_GETFL);
  const bool nonblocking = status_flags >= 0 && (status_flags & O_NONBLOCK) != 0;
  std::array<std::byte, socks5::kMaxReply> buf{};
  std::size_t want = 5;  // through ATYP and a name's length byte: then the size is known
  while (true) {
    const ssize_t n =
        REAL(recv)(fd, buf.data(), want, MSG_PEEK | (nonblocking ? MSG_DONTWAIT : MSG_WAITALL));
    if (n < 0) return Errno{errno};  // EAGAIN, EINTR: as accept() reports them
    if (n == 0) return Errno{ECONNABORTED};
    const auto d = socks5::decode_reply(std::span(buf.data(), static_cast<std::size_t>(n)));
    if (d.status == socks5::DecodeStatus::Malformed) return Errno{EPROTO};
    if (d.status == socks5::DecodeStatus::Ok) {
      const ssize_t taken = REAL(recv)(fd, buf.data(), d.size, MSG_WAITALL);
      if (taken != static_cast<ssize_t>(d.size)) return Errno{EPROTO};
      return d.value;
    }
    if (d.size > want) {
      want = std::min(d.size, buf.size());
    } else if (nonblocking) {
      return Errno{EAGAIN};  // the rest of the reply is on its way
    }
  }
}

// After the one connection: fd becomes a listener on loopback that nobody knows
// of, so a second accept() waits (or says EAGAIN) as for a quiet listener,
// instead of reading the connection's bytes.
void retire_listener(int fd, int family) {
  SocketName loop;
  const Endpoint lo =
      family == AF_INET6
          ? Endpoint::ipv6(
                std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0)
          : Endpoint::ipv4(std::array<std::uint8_t, 4>{127, 0, 0, 1}, 0);
  loop.set(lo, family);
  auto q = fresh_socket(loop);
  if (!q) return;
  if (REAL(listen)(*q, 1) != 0) {
    REAL(close)(*q);
    return;
  }
  (void)swap_in(fd, *q);
}

}  // namespace

int tcp_bind_bind(int fd, const sockaddr* addr, socklen_t len) noexcept {
  const int r = REAL(bind)(fd, addr, len);
  const int bind_errno = errno;
  // The kernel's answer, with its errno whatever the checks below touched.
  const auto kernels = [&] {
    errno = bind_errno;
    return r;
  };
  if (addr == nullptr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
    return kernels();
  if (r != 0 && bind_errno != EADDRNOTAVAIL) return kernels();
  const Runtime& rt = Runtime::get();
  if (!rt.configured() || !rt.settings().bind) return kernels();
  const auto ep = Endpoint::from_sockaddr(addr, len);
  if (!ep || ep->port() != 0 || ep->is_loopback()) return kernels();
  int type = 0;
  socklen_t type_len = sizeof type;
  if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM) {
    return kernels();
  }
  // A vfork child's socket cannot be recorded (the table is the parent's).
  if (in_vfork_child()) return kernels();
  if (r != 0) {
    // Not an address of this host: the proxy's, from getsockname. Bind the
    // kernel's socket to the wildcard of its family instead, as it must be
    // bound for the program's next calls to behave.
    sockaddr_storage any{};
    any.ss_family = addr->sa_family;
    const socklen_t any_len =
        addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (REAL(bind)(fd, reinterpret_cast<sockaddr*>(&any), any_len) != 0) return kernels();
  }
  if (FdState* s = fd_table().create(fd, FdState::Kind::TcpBindCandidate)) {
    s->bind.remember_bound(addr, len);
  }
  return 0;
}

std::optional<Status> tcp_bind_listen(int fd) noexcept {
  FdState* s = fd_table().get(fd);
  if (s == nullptr) return std::nullopt;
  if (s->kind == FdState::Kind::TcpBind) return Status{};  // already listening at the proxy
  if (s->kind != FdState::Kind::TcpBindCandidate) return std::nullopt;
  ReentryGuard guard;
  return open_bind(fd, s);
}

std::optional<Status> tcp_bind_sockname(int fd, sockaddr* addr, socklen_t* len) noexcept {
  FdState* s = fd_table().get(fd);
  if (s == nullptr) return std::nullopt;
  if (s->kind == FdState::Kind::TcpTunnel) {
    // The proxy's end of the tunnel (kept by the connect), once it stands.
    if (!Runtime::get().settings().bind || !s->connect.proxy_end(addr, len)) return std::nullopt;
    return Status{};
  }
  if (s->kind != FdState::Kind::TcpBind && s->kind != FdState::Kind::TcpBindCandidate) {
    return std::nullopt;
  }
  if (s->kind == FdState::Kind::TcpBindCandidate && s->bind.open_error() != 0) {
    // listen() failed already and said so: answering for a socket that listens
    // nowhere (Python's repr() asks, at exit too) must not try, and log, again.
    return std::nullopt;
  }
  ReentryGuard guard;
  if (s->kind == FdState::Kind::TcpBindCandidate) {
    if (Status opened = open_bind(fd, s); !opened) return opened;
  }
  s->bind.listen_address().copy_out(addr, len);
  return Status{};
}

std::optional<Result<int>> tcp_bind_accept(int fd, sockaddr* addr, socklen_t* len,
                                           int flags) noexcept {
  FdState* s = fd_table().get(fd);
  if (s == nullptr || s->kind != FdState::Kind::TcpBind) return std::nullopt;
  ReentryGuard guard;
  const int family = s->bind.family();
  const auto at = s->bind.listen_address().endpoint().value_or(Endpoint{});
  auto reply = second_reply(fd);
  if (!reply) {
    const int e = reply.error().code;
    if (e != EAGAIN && e != EINTR) {
      log::error("accept at {} (the proxy's BIND) failed: {} ({})", at,
                 e == ECONNABORTED ? "the proxy closed before a peer connected"
                 : e == EPROTO     ? "malformed second reply"
                                   : std::strerror(e),
                 log::errno_name(e));
    }
    return Result<int>{reply.error()};
  }
  if (reply->code != 0) {
    log::error("accept at {} (the proxy's BIND) failed: {} ({})", at,
               socks5::reply_text(reply->code), log::errno_name(socks5::reply_errno(reply->code)));
    return Result<int>{Errno{socks5::reply_errno(reply->code)}};
  }
  const int nfd = REAL(fcntl)(fd, (flags & SOCK_CLOEXEC) != 0 ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
  if (nfd < 0) return Result<int>{Errno{errno}};
  fd_table().release(fd);
  retire_listener(fd, family);
  // The connection's descriptor now owns its file description alone: give it
  // the blocking mode accept4() was asked for.
  const int status_flags = REAL(fcntl)(nfd, F_GETFL);
  if (status_flags >= 0) {
    REAL(fcntl)
    (nfd, F_SETFL,
     (flags & SOCK_NONBLOCK) != 0 ? status_flags | O_NONBLOCK : status_flags & ~O_NONBLOCK);
  }
  SocketName peer;
  const bool named = peer.set(reply->bound, family);
  if (FdState* t = fd_table().create(nfd, FdState::Kind::TcpTunnel); t != nullptr && named) {
    t->peer = peer;
  }
  if (named)
    peer.copy_out(addr, len);
  else if (len != nullptr)
    *len = 0;
  if (log::enabled(LogLevel::Debug))
    log::debug("fd {}: {} connected through the proxy's BIND", nfd, reply->bound);
  return Result<int>{nfd};
}

Status tcp_bind_before_connect(int fd) noexcept {
  FdState* s = fd_table().get(fd);
  if (s == nullptr) return {};
  if (s->kind == FdState::Kind::TcpBindCandidate) {
    fd_table().release(fd);  // the kernel's socket is still bound as asked
    return {};
  }
  if (s->kind != FdState::Kind::TcpBind) return {};
  ReentryGuard guard;
  auto q = fresh_socket(s->bind.bound());
  if (!q) return q.error();
  fd_table().release(fd);
  return swap_in(fd, *q);
}

}  // namespace socksify
