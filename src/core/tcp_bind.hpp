// SOCKS BIND (RFC 1928 §4): a program that waits for a remote peer to connect
// to it (FTP active mode: PORT/EPRT) listens at the proxy instead of locally,
// where the peer, reachable only through the proxy, could never reach it.
// Off unless `bind on`; then it applies to TCP sockets bound to port 0 of a
// non-loopback address (a server's fixed port, and loopback, stay local).
//
// The program's calls, in the order FTP clients make them:
//   bind(addr:0)           the kernel's; the socket becomes a candidate
//   getsockname / listen   the first of them opens the BIND: a connection to the
//                          proxy takes the socket's place (same descriptor, same
//                          flags), and getsockname answers with the address the
//                          proxy listens on (its first reply)
//   poll / select / epoll  readable once the peer has connected (second reply)
//   accept / accept4       reads the second reply and returns a new descriptor
//                          for the connection (getpeername: the peer). SOCKS BIND
//                          carries one connection: the listening descriptor then
//                          becomes a local listener nobody connects to.
//   connect instead        the socket is a plain one again, bound as asked.
// Failures fail closed: listen/getsockname/accept return the errno, with one
// log line; never a local listener in the proxy's place.
#pragma once

#include <sys/socket.h>

#include <optional>

#include "base/result.hpp"

namespace socksify {

// bind(): the kernel's answer, and with `bind on` a candidate remembered. An
// address that is not local (EADDRNOTAVAIL) is accepted for port 0: FTP clients
// bind to the address getsockname gave for their control connection, which
// (below) is the proxy's; the listener is at the proxy anyway.
int tcp_bind_bind(int fd, const sockaddr* addr, socklen_t len) noexcept;

// listen(): nullopt when it is the kernel's to do.
std::optional<Status> tcp_bind_listen(int fd) noexcept;

// getsockname(): nullopt when it is the kernel's to answer. With `bind on` a
// tunnel's answers with the proxy's end of the connection to the destination
// (BND of the CONNECT reply, ConnectState::proxy_end), the address a peer
// beyond the proxy can reach, which FTP clients put in PORT/EPRT.
std::optional<Status> tcp_bind_sockname(int fd, sockaddr* addr, socklen_t* len) noexcept;

// accept()/accept4(): the new descriptor, or nullopt when it is the kernel's.
std::optional<Result<int>> tcp_bind_accept(int fd, sockaddr* addr, socklen_t* len,
                                           int flags) noexcept;

// connect() on a candidate or an open BIND (asked through FdState::before_connect):
// make it a plain socket again, bound as the program asked. Ok when there was
// nothing to undo.
Status tcp_bind_before_connect(int fd) noexcept;

}  // namespace socksify
