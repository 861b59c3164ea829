#include "core/udp_inherited.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>

#include "base/decimal.hpp"
#include "core/fd_table.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/socket_family.hpp"

namespace socksify {
namespace {

int int_option(int fd, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (REAL(getsockopt)(fd, SOL_SOCKET, name, &v, &len) != 0) return -1;
  return v;
}

void adopt(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  const int domain = socket_family(fd);
  if ((domain != AF_INET && domain != AF_INET6) || int_option(fd, SO_TYPE) != SOCK_DGRAM ||
      int_option(fd, SO_PROTOCOL) != IPPROTO_UDP) {
    return;
  }
  FdState* s = fd_table().create(fd, FdState::Kind::Udp);
  if (s == nullptr) return;
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (REAL(getpeername)(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return;
  // Connected before we were loaded: the kernel sends to that peer.
  s->udp.set_direct_peer(true);
  auto dst = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), len);
  if (dst && route_for(Runtime::get(), *dst).kind != Route::Kind::Direct) {
    log::warn(
        "inherited UDP socket {} is connected to {} directly; connect() it again to "
        "use the proxy",
        fd, *dst);
  }
}

}  // namespace

void adopt_inherited_udp_sockets() noexcept {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  const int own = dirfd(dir);
  while (dirent* e = readdir(dir)) {
    const auto fd = parse_decimal(e->d_name, FdTable::kCapacity - 1);  // not "." or ".."
    if (!fd || static_cast<int>(*fd) == own) continue;
    adopt(static_cast<int>(*fd));
  }
  closedir(dir);
}

}  // namespace socksify
