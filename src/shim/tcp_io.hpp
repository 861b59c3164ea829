// What the data-call hooks (shim/send_recv.cpp) do for TCP sockets: refuse I/O
// on a socket whose SOCKS handshake is still running, and turn TCP Fast Open
// into connect() + send. Every other TCP socket is passed straight to libc.
#pragma once

#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

namespace socksify::tcp_io {

// I/O on a TCP socket whose non-blocking connect is still in its handshake:
// the kernel answers EAGAIN on a socket still connecting.
inline int busy() {
  errno = EAGAIN;
  return -1;
}

// TCP Fast Open: sendto/sendmsg with MSG_FASTOPEN and an address connects a
// TCP socket without connect(); it must take the same route (through the proxy,
// where the handshake forbids data in the SYN, so TFO itself is given up).
// ::connect and ::sendmsg are our own hooks.
inline ssize_t fast_open(int fd, const msghdr& m, int flags) {
  if (::connect(fd, static_cast<const sockaddr*>(m.msg_name), m.msg_namelen) != 0) return -1;
  msghdr rest = m;
  rest.msg_name = nullptr;
  rest.msg_namelen = 0;
  return ::sendmsg(fd, &rest, flags & ~MSG_FASTOPEN);
}

}  // namespace socksify::tcp_io
