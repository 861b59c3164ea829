#include "core/session.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>

#include "core/log.hpp"
#include "core/real.hpp"
#include "core/runtime.hpp"
#include "core/socket_stream.hpp"
#include "socks5/handshake.hpp"

namespace socksify {
namespace {

// Dissolves a TCP socket's connection (Linux: connect() with AF_UNSPEC), so a
// failed attempt leaves the program a socket it can still close or retry.
void disconnect(int fd) {
  sockaddr sa{};
  sa.sa_family = AF_UNSPEC;
  REAL(connect)(fd, &sa, sizeof sa);
}

int socket_family(int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return AF_UNSPEC;
  return domain;
}

// An AF_INET socket cannot reach an IPv6 proxy: put a socket of the proxy's
// family in its place, under the same descriptor number, with the options a
// program commonly sets carried over.
Status replace_socket(int fd, int family) {
  const int nfd = REAL(socket)(family, SOCK_STREAM, IPPROTO_TCP);
  if (nfd < 0) return Errno{errno};
  static constexpr struct {
    int level, name;
  } kCarried[] = {{SOL_SOCKET, SO_KEEPALIVE}, {SOL_SOCKET, SO_RCVBUF}, {SOL_SOCKET, SO_SNDBUF},
                  {SOL_SOCKET, SO_LINGER},    {SOL_SOCKET, SO_MARK},   {IPPROTO_TCP, TCP_NODELAY}};
  for (const auto& o : kCarried) {
    char value[sizeof(linger)];
    socklen_t len = sizeof value;
    if (REAL(getsockopt)(fd, o.level, o.name, value, &len) == 0) setsockopt(nfd, o.level, o.name, value, len);
  }
  const int fd_flags = REAL(fcntl)(fd, F_GETFD);
  const int rc = REAL(dup3)(nfd, fd, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
  const int err = errno;
  REAL(close)(nfd);
  if (rc < 0) return Errno{err};
  return {};
}

// Restores the descriptor's file status flags on every path out.
class NonBlockingScope {
 public:
  explicit NonBlockingScope(int fd) : fd_(fd), flags_(REAL(fcntl)(fd, F_GETFL)) {
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) REAL(fcntl)(fd_, F_SETFL, flags_ | O_NONBLOCK);
  }
  ~NonBlockingScope() {
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) REAL(fcntl)(fd_, F_SETFL, flags_);
  }
  // After replace_socket the new file needs the flags set again.
  void reapply() const {
    if (flags_ >= 0) REAL(fcntl)(fd_, F_SETFL, flags_ | O_NONBLOCK);
  }

 private:
  int fd_;
  int flags_;
};

// A proxy that cannot be reached, or hangs up before saying anything, is down:
// the next proxy of the pool may serve. Anything it said (a refusal, bad auth)
// is an answer, and is final.
bool proxy_is_down(const socks5::Failure& f) {
  if (f.stage != socks5::Stage::Greeting) return false;
  const int e = f.error.code;
  return e == ECONNRESET || e == ETIMEDOUT || e == EPIPE || e == ECONNREFUSED;
}

// Connects fd to proxy i (swapping an AF_INET socket for an AF_INET6 one when
// the proxy needs it and that is allowed).
Status reach_proxy(int fd, std::size_t i, int& family, const NonBlockingScope& nonblocking,
                   bool may_replace_socket, Deadline deadline) {
  const Runtime& rt = Runtime::get();
  sockaddr_storage addr;
  socklen_t len = rt.proxy_address(i, family, addr);
  if (len != 0 && family == AF_INET && addr.ss_family == AF_INET6) {
    if (!may_replace_socket) return Errno{EAFNOSUPPORT};
    if (auto r = replace_socket(fd, AF_INET6); !r) return r;
    nonblocking.reapply();
    family = AF_INET6;
    len = rt.proxy_address(i, family, addr);
  }
  if (len == 0) return Errno{EHOSTUNREACH};
  return connect_within(fd, reinterpret_cast<sockaddr*>(&addr), len, deadline);
}

// `verb` and `dst` name what the program was doing: "connect to" a destination,
// or "UDP to" one (not UDP ASSOCIATE's DST, which is our own address).
void log_unreachable(LogLevel level, std::string_view verb, const Endpoint& dst,
                     const ProxySpec& spec, Errno e, bool more) {
  log::log_at(level, "{} {} via {} failed: proxy unreachable: {} ({}){}", verb, dst,
              spec.display(), std::strerror(e.code), log::errno_name(e.code),
              more ? "; trying the next proxy" : "");
}

void log_failure(LogLevel level, std::string_view verb, const Endpoint& dst,
                 const ProxySpec& spec, const socks5::Failure& f, bool more) {
  log::log_at(level, "{} {} via {} failed: {} ({}){}", verb, dst, spec.display(), f.what,
              log::errno_name(f.error.code), more ? "; trying the next proxy" : "");
}

// proxy_mode chain: through every proxy in turn, each asked to CONNECT to the
// next, the last to the destination.
Result<socks5::Reply> open_chain(int fd, socks5::Command cmd, const Endpoint& dst,
                                 const Endpoint& shown, bool may_replace_socket,
                                 const NonBlockingScope& nonblocking) {
  const Runtime& rt = Runtime::get();
  const auto proxies = rt.proxies();
  if (cmd != socks5::Command::Connect) {
    // A UDP relay at the end of a chain is not reachable from here; BIND is
    // left to a single proxy too.
    const bool udp = cmd == socks5::Command::UdpAssociate;
    log::error("refusing {} {}: {} cannot cross a proxy chain", udp ? "UDP to" : "to listen at",
               shown, udp ? "UDP" : "BIND");
    return Errno{EOPNOTSUPP};
  }
  int family = socket_family(fd);
  const Deadline deadline = Clock::now() + rt.settings().connect_timeout;
  if (auto c = reach_proxy(fd, 0, family, nonblocking, may_replace_socket, deadline); !c) {
    disconnect(fd);
    log_unreachable(LogLevel::Error, "connect to", dst, proxies[0].spec, c.error(), false);
    return c.error();
  }
  SocketStream stream(fd, deadline);
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    const bool last_hop = i + 1 == proxies.size();
    const Endpoint& hop = last_hop ? dst : proxies[i + 1].endpoint;
    const ProxySpec& spec = proxies[i].spec;
    auto reply = socks5::handshake(stream, {spec.user, spec.password}, cmd, hop);
    if (!reply) {
      disconnect(fd);
      log::error("connect to {} via chain hop {} ({}) failed: {} ({})", dst, i + 1, spec.display(),
                 reply.error().what, log::errno_name(reply.error().error.code));
      return reply.error().error;
    }
    if (last_hop) {
      if (log::enabled(LogLevel::Debug)) log::debug("{} via a chain of {}: tunnel open", dst, i + 1);
      return std::move(reply.value());
    }
  }
  return Errno{EHOSTUNREACH};  // unreachable: the loop returns on the last hop
}

}  // namespace

Status prepare_socket(int fd, int family) noexcept {
  const Runtime& rt = Runtime::get();
  if (!rt.configured() || family != AF_INET) return {};
  sockaddr_storage addr;
  if (rt.proxy_address(0, AF_INET, addr) == 0 || addr.ss_family != AF_INET6) return {};
  NonBlockingScope nonblocking(fd);  // restores the flags on the new socket too
  if (auto r = replace_socket(fd, AF_INET6); !r) return r;
  nonblocking.reapply();
  return {};
}

Result<socks5::Reply> open_session(int fd, socks5::Command cmd, const Endpoint& dst,
                                   bool may_replace_socket, const Endpoint* subject) noexcept {
  Runtime& rt = Runtime::get();
  const Endpoint& shown = subject != nullptr ? *subject : dst;
  const std::string_view verb = cmd == socks5::Command::UdpAssociate ? "UDP to"
                                : cmd == socks5::Command::Bind       ? "listen at"
                                                                     : "connect to";
  if (!rt.configured()) {
    log::error("refusing {}: socksify is not configured ({})", shown, rt.config_error());
    return Errno{ENETUNREACH};
  }
  NonBlockingScope nonblocking(fd);
  const auto proxies = rt.proxies();
  if (rt.settings().proxy_mode == ProxyMode::Chain && proxies.size() > 1) {
    return open_chain(fd, cmd, dst, shown, may_replace_socket, nonblocking);
  }
  // Failover pool: the first proxy that answers serves.
  int family = socket_family(fd);
  Errno last{ECONNREFUSED};
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    const ProxySpec& spec = proxies[i].spec;
    const bool more = i + 1 < proxies.size();
    const Deadline deadline = Clock::now() + rt.settings().connect_timeout;
    if (auto c = reach_proxy(fd, i, family, nonblocking, may_replace_socket, deadline); !c) {
      last = c.error();
      disconnect(fd);
      log_unreachable(more ? LogLevel::Warn : LogLevel::Error, verb, shown, spec, last, more);
      continue;
    }
    SocketStream stream(fd, deadline);
    auto reply = socks5::handshake(stream, {spec.user, spec.password}, cmd, dst);
    if (reply) {
      if (log::enabled(LogLevel::Debug)) {
        log::debug("{} via {}: {} open", shown, spec.display(),
                   cmd == socks5::Command::UdpAssociate ? "UDP association"
                   : cmd == socks5::Command::Bind       ? "BIND listener"
                                                        : "tunnel");
      }
      return std::move(reply.value());
    }
    const socks5::Failure& f = reply.error();
    last = f.error;
    disconnect(fd);
    const bool try_next = more && proxy_is_down(f);
    log_failure(try_next ? LogLevel::Warn : LogLevel::Error, verb, shown, spec, f, try_next);
    if (!try_next) return last;
  }
  return last;
}

}  // namespace socksify
