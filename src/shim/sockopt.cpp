// getsockopt(SO_ERROR): after a non-blocking connect, the SOCKS outcome.
#include <sys/socket.h>

#include <cstring>
#include <mutex>

#include "core/fd_table.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

SOCKSIFY_HOOK int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  using namespace socksify;
  FdState* s = fd_table().get(fd);
  if (s == nullptr || level != SOL_SOCKET || name != SO_ERROR || value == nullptr ||
      len == nullptr || *len < sizeof(int) || s->kind != FdState::Kind::TcpTunnel) {
    return REAL(getsockopt)(fd, level, name, value, len);
  }
  int err = 0;  // still connecting: like the kernel, no error yet
  if (!s->pending.load(std::memory_order_acquire)) {
    std::lock_guard lock(s->mu);
    if (s->connect_error != 0 && !s->error_reported) {
      err = s->connect_error;
      s->error_reported = true;  // SO_ERROR is read-and-clear
    } else {
      return REAL(getsockopt)(fd, level, name, value, len);
    }
  }
  std::memcpy(value, &err, sizeof err);
  *len = sizeof err;
  return 0;
}
