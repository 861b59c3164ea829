#include "core/udp_connect.hpp"

#include "core/log.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"

namespace socksify {

Status udp_connect(int fd, const sockaddr* addr, socklen_t len) noexcept {
  auto dst = Endpoint::from_sockaddr(addr, len);
  Runtime& rt = Runtime::get();
  const Route route = dst ? route_for(rt, *dst) : Route{Route::Kind::Direct, {}, 0};
  if (route.kind == Route::Kind::Direct) {
    if (REAL(connect)(fd, addr, len) == 0) return {};
    return Errno{errno};
  }
  if (route.kind == Route::Kind::Refuse) return Errno{route.error};
  // Fail closed until UDP ASSOCIATE carries it: a direct datagram would leak.
  log::error("refusing UDP to {}: UDP through the proxy is not available in this build",
             route.target);
  return Errno{ENETUNREACH};
}

}  // namespace socksify
