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

}  // namespace

Result<socks5::Reply> open_session(int fd, socks5::Command cmd, const Endpoint& dst,
                                   bool may_replace_socket, const Endpoint* subject) noexcept {
  Runtime& rt = Runtime::get();
  const Endpoint& shown = subject != nullptr ? *subject : dst;
  const std::string_view verb = cmd == socks5::Command::UdpAssociate ? "UDP to" : "connect to";
  if (!rt.configured()) {
    log::error("refusing {}: socksify is not configured ({})", shown, rt.config_error());
    return Errno{ENETUNREACH};
  }
  const auto timeout = rt.settings().connect_timeout;
  NonBlockingScope nonblocking(fd);
  int family = socket_family(fd);
  Errno last{ECONNREFUSED};
  const auto proxies = rt.proxies();
  for (std::size_t i = 0; i < proxies.size(); ++i) {
    const ProxySpec& spec = proxies[i].spec;
    const bool more = i + 1 < proxies.size();
    sockaddr_storage addr;
    socklen_t len = rt.proxy_address(i, family, addr);
    if (len != 0 && family == AF_INET && addr.ss_family == AF_INET6) {
      if (!may_replace_socket) {
        last = Errno{EAFNOSUPPORT};
        continue;
      }
      if (auto r = replace_socket(fd, AF_INET6); !r) return r.error();
      nonblocking.reapply();
      family = AF_INET6;
      len = rt.proxy_address(i, family, addr);
    }
    if (len == 0) {
      last = Errno{EHOSTUNREACH};
      continue;
    }
    const Deadline deadline = Clock::now() + timeout;
    if (auto c = connect_within(fd, reinterpret_cast<sockaddr*>(&addr), len, deadline); !c) {
      last = c.error();
      disconnect(fd);
      log::log_at(more ? LogLevel::Warn : LogLevel::Error,
                  "{} {} via {} failed: proxy unreachable: {} ({}){}", verb, shown, spec.display(),
                  std::strerror(last.code), log::errno_name(last.code),
                  more ? "; trying the next proxy" : "");
      continue;
    }
    SocketStream stream(fd, deadline);
    const socks5::Credentials creds{spec.user, spec.password};
    auto reply = socks5::handshake(stream, creds, cmd, dst);
    if (reply) {
      log::debug("{} via {}: {} open", shown, spec.display(),
                 cmd == socks5::Command::UdpAssociate ? "UDP association" : "tunnel");
      return std::move(reply.value());
    }
    const socks5::Failure& f = reply.error();
    last = f.error;
    disconnect(fd);
    const bool try_next = more && proxy_is_down(f);
    log::log_at(try_next ? LogLevel::Warn : LogLevel::Error,
                "{} {} via {} failed: {} ({}){}", verb, shown, spec.display(), f.what,
                log::errno_name(last.code), try_next ? "; trying the next proxy" : "");
    if (!try_next) return last;
  }
  return last;
}

}  // namespace socksify
