// getsockopt(SO_ERROR): after a non-blocking connect, the SOCKS outcome.
#include <sys/socket.h>

#include <cstring>

#include "core/fd_table.hpp"
#include "core/real.hpp"
#include "shim/export.hpp"

SOCKSIFY_HOOK int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  using namespace socksify;
  FdState* s = fd_table().get(fd);
  if (s == nullptr || level != SOL_SOCKET || name != SO_ERROR || value == nullptr ||
      len == nullptr || *len < sizeof(int)) {
    return REAL(getsockopt)(fd, level, name, value, len);
  }
  const std::optional<int> err = s->take_connect_error();  // read-and-clear
  if (!err) return REAL(getsockopt)(fd, level, name, value, len);
  std::memcpy(value, &*err, sizeof *err);
  *len = sizeof *err;
  return 0;
}
