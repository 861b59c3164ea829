// Socket addresses kept and handed back the way the kernel does it: a
// sockaddr_storage holds whatever the program passed (cut to its size), and
// getpeername/getsockname/accept/recvfrom answers copy what fits in the
// caller's buffer and report the full length.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace socksify {

// Keeps the first len bytes of from in to (at most sizeof to); returns how many.
inline socklen_t store_sockaddr(sockaddr_storage& to, const void* from, socklen_t len) {
  const socklen_t n = std::min<socklen_t>(len, sizeof to);
  if (n != 0) std::memcpy(&to, from, n);
  return n;
}

// A value-result answer: copies min(*len, from_len) bytes to addr and sets *len
// to from_len, so a short buffer shows as a length larger than it. Does nothing
// when addr or len is null.
inline void copy_sockaddr_out(void* addr, socklen_t* len, const sockaddr_storage& from,
                              socklen_t from_len) {
  if (addr == nullptr || len == nullptr) return;
  std::memcpy(addr, &from, std::min(*len, from_len));
  *len = from_len;
}

}  // namespace socksify
