// Datagrams out through the relay (RFC 1928 §7).
#include "core/udp_send.hpp"

#include <errno.h>
#include <limits.h>

#include "core/dns_intercept.hpp"
#include "core/fd_table.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/scatter.hpp"
#include "core/udp_association.hpp"
#include "socks5/codec.hpp"

namespace socksify {
namespace {

Result<std::size_t> pass_through(int fd, const msghdr& msg, int flags) {
  const ssize_t n = REAL(sendmsg)(fd, &msg, flags);
  if (n < 0) return Errno{errno};
  return static_cast<std::size_t>(n);
}

// Where a datagram goes: the program's address, or the connected peer.
struct Destination {
  Route route;
  bool ipv6_address = false;  // the program passed a sockaddr_in6
};

}  // namespace

bool udp_has_proxied_peer(const FdState& s) noexcept {
  const UdpAssociation* a = s.udp.association();
  return (a != nullptr && a->peer.load(std::memory_order_acquire) != nullptr &&
          !s.udp.direct_peer()) ||
         dns_udp_connected(s);
}

Result<std::size_t> udp_sendmsg(int fd, FdState& s, const msghdr& msg, int flags) {
  // A query to a system resolver under remote DNS: answered by socksify.
  if (auto answered = dns_udp_send(fd, s, msg, flags)) return *answered;
  Destination d;
  if (msg.msg_name != nullptr && msg.msg_namelen != 0) {
    const auto* sa = static_cast<const sockaddr*>(msg.msg_name);
    auto dst = Endpoint::from_sockaddr(sa, msg.msg_namelen);
    // Not an IP destination (AF_UNSPEC, a short address): the kernel's answer.
    if (!dst) return pass_through(fd, msg, flags);
    d.route = route_for(Runtime::get(), *dst);
    d.ipv6_address = sa->sa_family == AF_INET6;
  } else {
    const UdpAssociation* a = s.udp.association();
    const UdpPeer* peer = a != nullptr ? a->peer.load(std::memory_order_acquire) : nullptr;
    // Unconnected (EDESTADDRREQ) or connected straight to a peer: the kernel's.
    if (peer == nullptr || s.udp.direct_peer()) {
      return pass_through(fd, msg, flags);
    }
    d.route = {Route::Kind::Proxy, peer->target, 0};
  }
  switch (d.route.kind) {
    case Route::Kind::Direct:
      return pass_through(fd, msg, flags);
    case Route::Kind::Refuse:
      return Errno{d.route.error};
    case Route::Kind::Proxy:
      break;
  }
  const Endpoint& target = d.route.target;
  if (!Runtime::get().settings().udp) {
    log::error("refusing UDP to {}: UDP through the proxy is turned off (SOCKSIFY_UDP)", target);
    return Errno{ENETUNREACH};
  }
  auto assoc = udp_live_association(fd, s, target);
  if (!assoc) return assoc.error();
  UdpAssociation& a = *assoc.value();
  // An IPv4 socket cannot name an IPv6 destination (the kernel says so too).
  if (d.ipv6_address && a.family == AF_INET) return Errno{EAFNOSUPPORT};

  std::byte header[socks5::kMaxUdpHeader];
  auto header_len = socks5::encode_udp_header(header, target);
  if (!header_len) return header_len.error();
  if (msg.msg_iovlen >= IOV_MAX) return Errno{EMSGSIZE};
  IovArray iov(msg.msg_iovlen + 1);
  if (!iov.ok()) return Errno{ENOMEM};
  iov[0] = {header, header_len.value()};
  for (std::size_t i = 0; i < msg.msg_iovlen; ++i) iov[i + 1] = msg.msg_iov[i];

  msghdr out = msg;
  out.msg_name = &a.relay;
  out.msg_namelen = a.relay_len;
  out.msg_iov = iov.data();
  out.msg_iovlen = iov.size();
  const ssize_t n = REAL(sendmsg)(fd, &out, flags);
  if (n < 0) return Errno{errno};
  // The program sent a payload: it learns the payload's length, as from the kernel.
  const auto sent = static_cast<std::size_t>(n);
  return sent >= header_len.value() ? sent - header_len.value() : 0;
}

Result<unsigned> udp_sendmmsg(int fd, FdState& s, mmsghdr* msgs, unsigned n, int flags) {
  unsigned done = 0;
  for (; done < n; ++done) {
    auto r = udp_sendmsg(fd, s, msgs[done].msg_hdr, flags);
    if (!r) {
      if (done == 0) return r.error();
      break;  // like the kernel: the count so far; the error shows on the next call
    }
    msgs[done].msg_len = static_cast<unsigned>(r.value());
  }
  return done;
}

}  // namespace socksify
