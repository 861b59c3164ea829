// getpeername(): a tunnel's peer is what the program connected to, not the proxy.
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "base/sockaddr_copy.hpp"
#include "core/fd_table.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

SOCKSIFY_HOOK int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  using namespace socksify;
  const FdState* s = fd_table().get(fd);
  if (s != nullptr && s->kind == FdState::Kind::TcpBind) {
    errno = ENOTCONN;  // a listener (at the proxy) has no peer
    return -1;
  }
  if (s == nullptr || s->peer_len == 0 || addr == nullptr || len == nullptr) {
    return REAL(getpeername)(fd, addr, len);
  }
  // Still connecting, or the proxy said no: there is no peer, as for any socket.
  if (s->pending.load(std::memory_order_acquire) || s->connect_error != 0) {
    errno = ENOTCONN;
    return -1;
  }
  copy_sockaddr_out(addr, len, s->peer, s->peer_len);
  return 0;
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(getpeername)
