// What the supervisor answers to one trapped call (see bpf_filter.hpp for
// which calls those are). Nothing the program asked is ever let through with
// SECCOMP_USER_NOTIF_FLAG_CONTINUE when the answer depends on memory the
// program could change after we read it (another thread may rewrite the
// sockaddr between our look and the kernel's): such calls are performed here,
// on a copy of the program's descriptor (pidfd_getfd: the same open file
// description), with the bytes we checked. CONTINUE is used only where the
// registers alone decide (a stream socket's sendto/sendmsg without
// MSG_FASTOPEN ignores the address) and for sockets that are not AF_INET or
// AF_INET6 (a Unix socket's path is resolved in the program's own root).
//
// connect() of an AF_INET/AF_INET6 stream socket to a destination the
// library's rules send through the proxy: the library's own session
// (failover, chains, auth) runs, and connect returns 0, which Go's poller and
// non-blocking C callers take as connected. On a non-blocking socket (Go's)
// it runs on the program's socket itself, through our copy. A blocking socket
// never is: the session needs O_NONBLOCK, and setting it on the program's
// file description for the handshake would show it to the program's other
// threads (F_GETFL; a read on a dup says EAGAIN). There, as when a proxy
// needs a socket of another family (an AF_INET socket, an IPv6 proxy), a
// fresh socket of ours runs the session and goes in place of the program's
// descriptor (SECCOMP_IOCTL_NOTIF_ADDFD with SETFD, keeping its number,
// close-on-exec flag, blocking mode, local address and common socket
// options). One connect runs per socket at a time, as in the kernel: a second
// thread's connect on it gets EALREADY meanwhile, EISCONN after a success.
// getpeername of such a socket names the destination, not the proxy.
// Under remote DNS, a UDP connect to port 53 goes to the supervisor's DNS stub
// (dns_stub_server.hpp): Go's own resolver then gets fake addresses.
// A UDP connect to a proxied destination goes through a UDP ASSOCIATE relay
// of the supervisor's (udp_relay.hpp).
// Unconnected UDP (sendto, sendmsg, sendmmsg) to anything the rules do not
// allow direct fails with EACCES and one log line: not carried yet.
#pragma once

#include <linux/seccomp.h>

namespace socksify {
class Runtime;
}

namespace socksify::supervisor {

// Answers `req` on `listener` (sends the response itself: a connect through
// the proxy has to install the new socket before answering).
void handle_notification(const Runtime& rt, int listener, const seccomp_notif& req) noexcept;

}  // namespace socksify::supervisor
