// getpeername(): a tunnel's peer is what the program connected to, not the proxy.
#include <sys/socket.h>

#include "core/fd_table.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

SOCKSIFY_HOOK int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  using namespace socksify;
  const FdState* s = fd_table().get(fd);
  if (s == nullptr) return REAL(getpeername)(fd, addr, len);
  const std::optional<Status> answer = s->peer_name(addr, len);
  return answer ? to_c(*answer) : REAL(getpeername)(fd, addr, len);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(getpeername)
