// SocketName: a socket address socksify answers with in the kernel's place
// (getpeername, getsockname, accept): kept as the program passed it or as a
// socket of its family would show it, handed back the way the kernel does
// (base/sockaddr_copy.hpp).
#pragma once

#include <sys/socket.h>

#include <optional>

#include "base/endpoint.hpp"
#include "base/sockaddr_copy.hpp"

namespace socksify {

class SocketName {
 public:
  // As the program passed it (cut to sizeof(sockaddr_storage)).
  void set(const sockaddr* addr, socklen_t len) noexcept {
    len_ = store_sockaddr(addr_, addr, len);
  }
  // ep as a socket of `family` names it: an AF_INET6 socket sees an IPv4
  // address as ::ffff:a.b.c.d, as it would from the kernel. false (and
  // nothing known) when ep has no address form.
  bool set(const Endpoint& ep, int family) {
    len_ = (family == AF_INET6 ? ep.v4_mapped() : ep).to_sockaddr(addr_);
    return len_ != 0;
  }
  void clear() noexcept { len_ = 0; }

  bool known() const noexcept { return len_ != 0; }
  int family() const noexcept { return addr_.ss_family; }
  const sockaddr* addr() const noexcept { return reinterpret_cast<const sockaddr*>(&addr_); }
  socklen_t size() const noexcept { return len_; }
  std::optional<Endpoint> endpoint() const { return Endpoint::from_sockaddr(addr(), len_); }
  // A value-result answer (copy_sockaddr_out): what fits, and the full length.
  void copy_out(sockaddr* addr, socklen_t* len) const noexcept {
    copy_sockaddr_out(addr, len, addr_, len_);
  }

 private:
  sockaddr_storage addr_{};
  socklen_t len_ = 0;
};

}  // namespace socksify
