#include "core/udp_association.hpp"

#include <errno.h>
#include <netinet/in.h>
#include <time.h>

#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#include "base/sockaddr_copy.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/socket_family.hpp"
#include "core/udp_address.hpp"
#include "core/vfork_child.hpp"

namespace socksify {
namespace {

// While the proxy cannot be reached, how often a socket tries a new
// association (each try is a connect to the proxy, and a line in the log).
constexpr std::int64_t kReassociateEvery = 200'000'000;  // ns

// Associations are recycled, never freed, like FdStates (fd_table.hpp): a
// thread still sending on a socket that another thread closes (a bug of the
// program's) reads a dead association, not freed memory. Its peers are freed
// only when the object is reused, long after.
std::mutex g_pool_mu;
UdpAssociation* g_pool = nullptr;

void recycle(UdpAssociation* a) {
  std::lock_guard lock(g_pool_mu);
  a->next_free = g_pool;
  g_pool = a;
}

UdpAssociation* new_association() {
  UdpAssociation* a = nullptr;
  {
    std::lock_guard lock(g_pool_mu);
    if (g_pool != nullptr) a = std::exchange(g_pool, g_pool->next_free);
  }
  if (a == nullptr) return new (std::nothrow) UdpAssociation;
  for (UdpPeer* p = a->peers; p != nullptr;) delete std::exchange(p, p->older);
  a->peers = nullptr;
  a->peer.store(nullptr, std::memory_order_relaxed);
  a->control_fd.store(-1, std::memory_order_relaxed);
  a->family = AF_INET;
  a->relay = {};
  a->relay_len = 0;
  a->proxy = {};
  a->expected_header.store(10, std::memory_order_relaxed);
  a->dead.store(false, std::memory_order_relaxed);
  a->next_check_ns.store(0, std::memory_order_relaxed);
  a->next_attempt_ns = 0;
  a->older = nullptr;
  a->next_free = nullptr;
  return a;
}

bool ipv6_only(int fd) {
  int on = 0;
  socklen_t len = sizeof on;
  return REAL(getsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len) == 0 && on != 0;
}

std::optional<Endpoint> local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (REAL(getsockname)(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

// The relay needs to know our port before the first datagram (RFC 1928 §7), so
// an unbound socket is bound now, to the wildcard address and a free port:
// what the kernel would do on the first sendto anyway.
Result<Endpoint> bound_address(int fd, int family) {
  auto local = local_address(fd);
  if (!local) return Errno{errno != 0 ? errno : EINVAL};
  if (local->port() != 0) return *local;
  sockaddr_storage any{};
  any.ss_family = static_cast<sa_family_t>(family);
  const socklen_t len = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&any), len) != 0) return Errno{errno};
  local = local_address(fd);
  if (!local) return Errno{EINVAL};
  return *local;
}

std::optional<Endpoint> peer_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (REAL(getpeername)(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (ep) return ep->unmapped();
  return std::nullopt;
}

// The control connection, one of socksify's own descriptors (moved high and
// kept out of the program's close_range: src/core/own_fds.hpp), closed on
// every path that does not hand it over to the association.
struct ControlFd {
  std::atomic<int> fd{-1};
  explicit ControlFd(int made) { adopt_own_fd(made, fd); }
  ~ControlFd() { close_own_fd(fd); }
  int get() const { return fd.load(std::memory_order_acquire); }
};

Result<UdpAssociation*> open_association(int fd, const Endpoint& dst) {
  ReentryGuard guard;
  const int family = socket_family(fd);
  if (family != AF_INET && family != AF_INET6) return Errno{EAFNOSUPPORT};
  auto bound = bound_address(fd, family);
  if (!bound) {
    log::error("UDP to {} failed: cannot bind the socket for the proxy's relay ({})", dst,
               log::errno_name(bound.error().code));
    return bound.error();
  }
  // The control connection is ours, not the program's: close-on-exec, so a
  // child the program starts does not keep the association alive.
  ControlFd control{REAL(socket)(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP)};
  if (control.get() < 0) {
    const int e = errno;
    log::error("UDP to {} failed: cannot create the proxy control socket ({})", dst,
               log::errno_name(e));
    return Errno{e};
  }
  // Which relay family to ask for: IPv4 for an IPv4 socket; IPv6 for an IPv6
  // socket that cannot use IPv4 (IPV6_V6ONLY) or that reaches the proxy over
  // IPv6 anyway; else IPv4, reached v4-mapped.
  const auto proxies = Runtime::get().group_proxies(route_group_for(Runtime::get(), dst));
  const bool ipv6_proxy =
      !proxies.empty() && proxies.front().endpoint.unmapped().kind() == Endpoint::Kind::IPv6;
  const bool want_ipv6_relay = family == AF_INET6 && (ipv6_only(fd) || ipv6_proxy);
  auto reply = open_session(control.get(), socks5::Command::UdpAssociate,
                            associate_request_address(*bound, want_ipv6_relay), true, &dst);
  // open_session may have put a socket of the proxy's family in its place
  // (also when it then failed: the one to close is that one).
  own_fds().renew(control.fd);
  if (!reply) return reply.error();  // open_session logged it

  const Endpoint proxy = peer_address(control.get()).value_or(Endpoint{});
  Endpoint relay = reply->bound.unmapped();
  if (!relay.is_ip()) {
    log::error(
        "UDP to {} via {} failed: the proxy named its relay by host name ({}), "
        "which is not supported",
        dst, proxy, relay);
    return Errno{EAFNOSUPPORT};
  }
  // RFC 1928 §7 / common practice: a relay at 0.0.0.0 or :: means "the address
  // you reached me at", with BND.PORT.
  if (relay.is_unspecified()) {
    if (!proxy.is_ip()) return Errno{ENOTCONN};
    const std::uint16_t port = relay.port();
    relay = proxy;
    relay.set_port(port);
  }
  // An IPv6-only socket (BIND's dig sets IPV6_V6ONLY) has no v4-mapped path to
  // an IPv4 relay; the kernel would only say ENETUNREACH.
  if (family == AF_INET6 && relay.kind() == Endpoint::Kind::IPv4 && ipv6_only(fd)) {
    log::error(
        "UDP to {} via {} failed: the relay {} is IPv4 and the program's socket is "
        "IPv6-only (IPV6_V6ONLY); use an IPv6 proxy address",
        dst, proxy, relay);
    return Errno{EAFNOSUPPORT};
  }
  UdpAssociation* a = new_association();
  if (a == nullptr) return Errno{ENOMEM};
  a->family = family;
  a->proxy = proxy;
  a->group = route_group_for(Runtime::get(), dst);
  a->relay_len = sockaddr_in_family(relay, family, a->relay);
  if (a->relay_len == 0) {
    recycle(a);
    log::error("UDP to {} via {} failed: the relay {} is IPv6 and the program's socket is IPv4",
               dst, proxy, relay);
    return Errno{EAFNOSUPPORT};
  }
  a->expected_header.store(static_cast<std::uint16_t>(udp_header_size(relay)),
                           std::memory_order_relaxed);
  own_fds().hand_over(control.fd, a->control_fd);
  log::debug("UDP association for fd {} via {}: relay {}", fd, proxy, relay);
  return a;
}

}  // namespace

Result<UdpAssociation*> udp_association_for(int fd, FdState& state, const Endpoint& dst) {
  if (UdpAssociation* a = state.udp.association()) return a;
  // Two threads sending the first datagram at once: one association, the other
  // waits for it (it could not send without it anyway).
  std::lock_guard lock(state.udp.open_lock());
  if (UdpAssociation* a = state.udp.association()) return a;
  // A vfork child's control connection would be in its own descriptor table
  // (gone at its exec) and recorded in the parent's memory.
  if (refuse_in_vfork_child("a UDP association")) return Errno{EPERM};
  auto opened = open_association(fd, dst);
  if (!opened) return opened.error();
  state.udp.publish(opened.value());
  return opened.value();
}

Result<UdpAssociation*> udp_live_association(int fd, FdState& state, const Endpoint& dst) {
  auto assoc = udp_association_for(fd, state, dst);
  if (!assoc) return assoc;
  UdpAssociation& dead = *assoc.value();
  // One association per socket, at one proxy: a datagram whose route rule
  // names another proxy cannot use it, and must not go out any other way.
  if (const Runtime& rt = Runtime::get(); !rt.settings().routes.empty()) {
    if (const std::size_t g = route_group_for(rt, dst); g != dead.group) {
      log::error(
          "refusing UDP to {}: its route leads to another proxy than the one this socket's "
          "association is at (one association per socket; use a socket per route)",
          dst);
      return Errno{EHOSTUNREACH};
    }
  }
  if (udp_association_alive(dead, dst)) return &dead;  // nearly always
  // The proxy ended it: from here on it is the dead one.

  std::lock_guard lock(state.udp.open_lock());
  // Another thread sending at the same time may have re-associated already.
  if (UdpAssociation* now = state.udp.association(); now != &dead) return now;
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::int64_t now_ns = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  if (now_ns < dead.next_attempt_ns) return Errno{ECONNRESET};
  dead.next_attempt_ns = now_ns + kReassociateEvery;
  auto opened = open_association(fd, dst);  // logs its own failure
  if (!opened) return opened.error();
  UdpAssociation* fresh = opened.value();
  if (const UdpPeer* peer = dead.peer.load(std::memory_order_acquire); peer != nullptr) {
    // Connected through the relay: the kernel filters for the old relay's
    // address, so the socket is connected to the new one.
    if (REAL(connect)(fd, reinterpret_cast<const sockaddr*>(&fresh->relay), fresh->relay_len) !=
        0) {
      const int e = errno;
      log::error("UDP to {} via {} failed: cannot connect to the new relay ({})", dst, fresh->proxy,
                 log::errno_name(e));
      release_udp_association(fresh);
      return Errno{e};
    }
    auto* copy = new (std::nothrow) UdpPeer(*peer);
    if (copy == nullptr) {
      release_udp_association(fresh);
      return Errno{ENOMEM};
    }
    copy->older = nullptr;
    fresh->peers = copy;
    fresh->peer.store(copy, std::memory_order_release);
  }
  // The dead one's control connection is over; its memory stays with the
  // socket (a racing sender may still read it).
  close_own_fd(dead.control_fd);
  fresh->older = &dead;
  state.udp.publish(fresh);
  log::warn("UDP to {} via {}: a new UDP association replaces the one the proxy ended", dst,
            fresh->proxy);
  return fresh;
}

Status udp_association_alive(UdpAssociation& a, const Endpoint& dst) noexcept {
  if (a.dead.load(std::memory_order_relaxed)) return Errno{ECONNRESET};
  // Looking at the control connection costs a syscall; a datagram costs one.
  // At most once a millisecond (the vDSO clock costs none) keeps the round trip
  // at parity with a client that never looks, and a drop is still reported on
  // the first call after that window (a datagram sent inside it is lost, as a
  // datagram sent just before the drop would be).
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::int64_t now = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
  if (now < a.next_check_ns.load(std::memory_order_relaxed)) return {};
  a.next_check_ns.store(now + 1'000'000, std::memory_order_relaxed);
  // RFC 1928 §7: the association ends with the control connection. The proxy
  // sends nothing on it after the reply, so readable means closed (or reset).
  char byte;
  const int control = a.control_fd.load(std::memory_order_acquire);
  const ssize_t n = REAL(recv)(control, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return {};
  const int e = n == 0 ? 0 : errno;
  if (n < 0 && (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)) return {};
  if (!a.dead.exchange(true)) {
    log::error("UDP to {} via {} failed: the proxy ended the UDP association ({})", dst, a.proxy,
               n == 0 ? std::string_view("control connection closed") : log::errno_name(e));
  }
  return Errno{ECONNRESET};
}

Status udp_set_peer(FdState& state, UdpAssociation& a, const Endpoint* target,
                    const sockaddr* program_addr, socklen_t program_len) noexcept {
  if (target == nullptr) {
    a.peer.store(nullptr, std::memory_order_release);
    return {};
  }
  auto* p = new (std::nothrow) UdpPeer;
  if (p == nullptr) return Errno{ENOMEM};
  p->target = *target;
  if (target->is_ip()) p->filter = target->unmapped();
  p->program_len = store_sockaddr(p->program_addr, program_addr, program_len);
  std::lock_guard lock(state.udp.open_lock());
  p->older = a.peers;
  a.peers = p;
  a.peer.store(p, std::memory_order_release);
  return {};
}

void udp_pool_reset_in_child() noexcept {
  new (&g_pool_mu) std::mutex;
}

void release_udp_association(UdpAssociation* udp) noexcept {
  // The socket's association and the dead ones it replaced.
  while (udp != nullptr) {
    UdpAssociation* older = std::exchange(udp->older, nullptr);
    // Closing the control connection ends the association at the proxy (§7).
    close_own_fd(udp->control_fd);
    udp->dead.store(true, std::memory_order_relaxed);  // a racing sender stops here
    recycle(udp);
    udp = older;
  }
}

}  // namespace socksify
