#include "core/udp_connect.hpp"

#include <errno.h>

#include "core/dns_intercept.hpp"
#include "core/fd_table.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/udp_association.hpp"

namespace socksify {
namespace {

Status real_connect(int fd, const sockaddr* addr, socklen_t len) {
  if (REAL(connect)(fd, addr, len) == 0) return {};
  return Errno{errno};
}

// The socket's state; a socket made before socksify was loaded (or inherited)
// gets one now.
FdState* udp_state_or_create(int fd) {
  FdState* s = fd_table().get(fd);
  if (s != nullptr && s->kind == FdState::Kind::Udp) return s;
  return fd_table().create(fd, FdState::Kind::Udp);
}

void forget_peer(FdState& s) {
  if (UdpAssociation* a = s.udp.association()) {
    (void)udp_set_peer(s, *a, nullptr, nullptr, 0);
  }
  s.peer.clear();
}

}  // namespace

Status udp_connect(int fd, const sockaddr* addr, socklen_t len) {
  FdState* s = udp_state_or_create(fd);
  // A system resolver under remote DNS: connected to our injector instead.
  if (s != nullptr) {
    if (auto answered = dns_udp_connect(fd, *s, addr, len)) return *answered;
  }
  if (addr->sa_family == AF_UNSPEC) {
    // Dissolve: the kernel forgets the relay (or the direct peer), we the rest.
    if (auto r = real_connect(fd, addr, len); !r) return r;
    if (s != nullptr) {
      forget_peer(*s);
      s->udp.set_direct_peer(false);
    }
    return {};
  }
  auto dst = Endpoint::from_sockaddr(addr, len);
  if (!dst || s == nullptr) return real_connect(fd, addr, len);
  Runtime& rt = Runtime::get();
  const Route route = route_for(rt, *dst);
  switch (route.kind) {
    case Route::Kind::Direct:
      if (auto r = real_connect(fd, addr, len); !r) return r;
      forget_peer(*s);
      s->udp.set_direct_peer(true);
      return {};
    case Route::Kind::Refuse:
      return Errno{route.error};
    case Route::Kind::Proxy:
      break;
  }
  if (!rt.settings().udp) {
    log::error("refusing UDP to {}: UDP through the proxy is turned off (SOCKSIFY_UDP)",
               route.target);
    return Errno{ENETUNREACH};
  }
  auto assoc = udp_live_association(fd, *s, route.target);
  if (!assoc) return assoc.error();
  UdpAssociation& a = *assoc.value();
  if (addr->sa_family == AF_INET6 && a.family == AF_INET) return Errno{EAFNOSUPPORT};
  // The kernel now delivers only the relay's datagrams and makes the socket
  // writable/readable for poll exactly as a connected one.
  if (auto r = real_connect(fd, reinterpret_cast<const sockaddr*>(&a.relay), a.relay_len); !r) {
    log::error("UDP to {} via {} failed: cannot connect to the relay ({})", route.target, a.proxy,
               log::errno_name(r.error().code));
    return r;
  }
  if (auto p = udp_set_peer(*s, a, &route.target, addr, len); !p) return p;
  s->udp.set_direct_peer(false);
  s->peer.set(addr, len);
  return {};
}

}  // namespace socksify
