#include "core/dns_injector.hpp"

#include <errno.h>
#include <netinet/in.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <new>

#include "base/endpoint.hpp"
#include "base/loopback.hpp"
#include "core/errno_saver.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"

namespace socksify {
namespace {

struct Injector {
  std::atomic<int> fd{-1};
  std::atomic<std::uint16_t> port{0};  // network byte order, 0 until made
};

Injector g_v4;
Injector g_v6;
std::mutex g_make_mu;

// Made once, under g_make_mu; failures are retried by the next caller.
Injector* injector(bool ipv6) noexcept {
  Injector& in = ipv6 ? g_v6 : g_v4;
  if (in.port.load(std::memory_order_acquire) != 0) return &in;
  std::lock_guard lock(g_make_mu);
  if (in.port.load(std::memory_order_relaxed) != 0) return &in;
  const int family = ipv6 ? AF_INET6 : AF_INET;
  const int fd = REAL(socket)(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return nullptr;
  sockaddr_storage ss{};
  socklen_t len = loopback_sockaddr(ipv6, ss);
  // Nothing is meant to arrive here (a datagram the program's socket sends to
  // its "resolver" past our hooks, a raw syscall, lands here and nowhere else):
  // the smallest receive buffer the kernel allows keeps that from costing memory.
  const int small = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  if (REAL(bind)(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      REAL(getsockname)(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    REAL(close)(fd);
    return nullptr;
  }
  adopt_own_fd(fd, in.fd);
  const std::uint16_t port = ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                  : reinterpret_cast<sockaddr_in*>(&ss)->sin_port;
  in.port.store(port, std::memory_order_release);
  return &in;
}

}  // namespace

Result<socklen_t> dns_injector_address(int family, bool v6only, sockaddr_storage& out) noexcept {
  ErrnoSaver keep;
  const bool use_v6 = family == AF_INET6 && v6only;
  Injector* in = injector(use_v6);
  if (in == nullptr) return Errno{errno != 0 ? errno : EADDRNOTAVAIL};
  out = {};
  const std::uint16_t port = in->port.load(std::memory_order_acquire);
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = port;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return static_cast<socklen_t>(sizeof *a);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&out);
  a->sin6_family = AF_INET6;
  a->sin6_port = port;
  if (use_v6) {
    a->sin6_addr = in6addr_loopback;
  } else {  // ::ffff:127.0.0.1
    a->sin6_addr.s6_addr[10] = 0xff;
    a->sin6_addr.s6_addr[11] = 0xff;
    a->sin6_addr.s6_addr[12] = 127;
    a->sin6_addr.s6_addr[15] = 1;
  }
  return static_cast<socklen_t>(sizeof *a);
}

Status dns_inject(std::span<const std::byte> datagram, const sockaddr_storage& to, socklen_t to_len,
                  bool v6only) noexcept {
  ErrnoSaver keep;
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&to), to_len);
  if (!ep) return Errno{EINVAL};
  Endpoint dst = ep->unmapped();
  const bool ipv6 = dst.kind() == Endpoint::Kind::IPv6;
  // A socket bound to the wildcard receives on every local address: loopback.
  if (dst.is_unspecified()) {
    const std::uint16_t port = dst.port();
    if (ipv6 && v6only) {
      static constexpr std::uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
      dst = Endpoint::ipv6(kLoop6, port);
    } else {
      static constexpr std::uint8_t kLoop4[4] = {127, 0, 0, 1};
      dst = Endpoint::ipv4(kLoop4, port);
    }
  }
  const bool from_v6 = dst.kind() == Endpoint::Kind::IPv6;
  Injector* in = injector(from_v6);
  if (in == nullptr) return Errno{EADDRNOTAVAIL};
  sockaddr_storage ss{};
  const socklen_t len = dst.to_sockaddr(ss);
  const ssize_t n =
      REAL(sendto)(in->fd.load(std::memory_order_acquire), datagram.data(), datagram.size(),
                   MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&ss), len);
  if (n < 0) return Errno{errno};
  return {};
}

bool dns_is_injector(const sockaddr* addr, socklen_t len) noexcept {
  auto ep = Endpoint::from_sockaddr(addr, len);
  if (!ep) return false;
  const Endpoint src = ep->unmapped();
  const Injector& in = src.kind() == Endpoint::Kind::IPv6 ? g_v6 : g_v4;
  const std::uint16_t port = in.port.load(std::memory_order_acquire);
  if (port == 0 || htons(src.port()) != port) return false;
  const auto a = src.address();
  if (src.kind() == Endpoint::Kind::IPv4) return a[0] == 127 && a[1] == 0 && a[2] == 0 && a[3] == 1;
  for (std::size_t i = 0; i < 15; ++i) {
    if (a[i] != 0) return false;
  }
  return a[15] == 1;
}

void dns_injector_reset_in_child() noexcept {
  new (&g_make_mu) std::mutex;
}

}  // namespace socksify
