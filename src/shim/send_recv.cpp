// Hooks for the data calls: sendto/sendmsg/sendmmsg/send/write/writev and
// recvfrom/recvmsg/recvmmsg/recv/read/readv (and glibc's fortified variants),
// one per libc name whatever the socket. Thin: look up the descriptor's state,
// hand tracked UDP sockets to the logic in core/udp_send and core/udp_recv, and
// TCP sockets still connecting or opened with Fast Open to shim/tcp_io.hpp;
// every other descriptor goes straight to libc after one bounds check and one
// load.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/dns_intercept.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/real.hpp"
#include "core/udp_recv.hpp"
#include "core/udp_send.hpp"
#include "shim/export.hpp"
#include "shim/tcp_io.hpp"

namespace {

using socksify::FdState;
using socksify::Result;
using socksify::tcp_io::busy;
using socksify::tcp_io::fast_open;

// What a data call on fd is to socksify: a tracked UDP socket (udp), a TCP
// socket still in its SOCKS handshake (no I/O yet: the program's bytes would
// land in the middle of the exchange), one opened with early data whose proxy
// replies are still to be read (tcp_io::early_read/early_write first), a TCP
// stream to a system resolver that socksify answers (dns: its writes are read
// back, core/dns_intercept.hpp), or none: pass the call through.
struct Tracked {
  FdState* udp;
  bool handshaking;
  bool early = false;
  FdState* dns = nullptr;
};

inline Tracked tracked(int fd) {
  FdState* s = socksify::fd_table().get(fd);
  if (s == nullptr || socksify::ReentryGuard::active()) return {nullptr, false};
  if (s->kind == FdState::Kind::Udp) return {s, false};
  if (s->kind == FdState::Kind::DnsTcp) return {nullptr, false, false, s};
  if (s->connecting()) return {nullptr, true};
  return {nullptr, false, s->kind == FdState::Kind::TcpTunnel && s->connect.early_due()};
}

// recvfrom on a UDP socket that may hold a DNS answer of ours: the kernel's
// datagram, its source the resolver the query went to (dns_intercept.hpp).
ssize_t recv_dns_answer(int fd, FdState& s, void* buf, size_t len, int flags, sockaddr* addr,
                        socklen_t* addr_len) {
  iovec v;
  v = {buf, len};
  msghdr m{};
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  m.msg_name = addr;
  m.msg_namelen = *addr_len;
  const ssize_t n = REAL(recvmsg)(fd, &m, flags);
  if (n < 0) return n;
  socksify::keeping_errno([&] { socksify::dns_udp_received(s, m); });
  *addr_len = m.msg_namelen;
  return n;
}

msghdr one_buffer(const void* buf, size_t len, iovec& v) {
  v = {const_cast<void*>(buf), len};
  msghdr m{};
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  return m;
}

msghdr buffers(const iovec* iov, int count) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = count < 0 ? 0 : static_cast<size_t>(count);
  return m;
}

ssize_t send_via_relay(int fd, FdState& s, const msghdr& m, int flags) {
  return socksify::to_c(socksify::guarded<Result<std::size_t>>(
      [&] { return socksify::udp_sendmsg(fd, s, m, flags); }));
}

ssize_t recv_via_relay(int fd, FdState& s, msghdr& m, int flags) {
  return socksify::to_c(socksify::guarded<Result<std::size_t>>(
      [&] { return socksify::udp_recvmsg(fd, s, m, flags); }));
}

// send, write and writev: writes without a destination, alike but for the
// real call (real(), run for every descriptor socksify passes through) and the
// buffers (message(), built only for a UDP socket's relay).
template <typename Real, typename Message>
ssize_t connected_write(int fd, int flags, Real real, Message message) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_write(fd) != 0) return -1;
  if (t.dns) return socksify::dns_tcp_sent(*t.dns, real());
  FdState* s = t.udp;
  if (s == nullptr || !socksify::udp_has_proxied_peer(*s)) return real();
  return send_via_relay(fd, *s, message(), flags);
}

// recv, read and readv: reads without a source address, alike but for the
// real call and the buffers (message(), built only for a UDP socket's relay).
template <typename Real, typename Message>
ssize_t connected_read(int fd, int flags, Real real, Message message) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_read(fd, flags) != 0) return -1;
  FdState* s = t.udp;
  if (s == nullptr || !socksify::udp_receives_from_relay(*s)) return real();
  msghdr m = message();
  return recv_via_relay(fd, *s, m, flags);
}

}  // namespace

// --- out ---

SOCKSIFY_HOOK ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* addr,
                             socklen_t addr_len) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_write(fd) != 0) return -1;
  if (t.dns) {
    return socksify::dns_tcp_sent(*t.dns, REAL(sendto)(fd, buf, len, flags, addr, addr_len));
  }
  FdState* s = t.udp;
  if (s == nullptr) {
    if ((flags & MSG_FASTOPEN) && addr != nullptr && !socksify::ReentryGuard::active()) {
      iovec v;
      msghdr m = one_buffer(buf, len, v);
      m.msg_name = const_cast<sockaddr*>(addr);
      m.msg_namelen = addr_len;
      return fast_open(fd, m, flags);
    }
    return REAL(sendto)(fd, buf, len, flags, addr, addr_len);
  }
  iovec v;
  msghdr m = one_buffer(buf, len, v);
  m.msg_name = const_cast<sockaddr*>(addr);
  m.msg_namelen = addr != nullptr ? addr_len : 0;
  return send_via_relay(fd, *s, m, flags);
}

SOCKSIFY_HOOK ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_write(fd) != 0) return -1;
  if (t.dns) return socksify::dns_tcp_sent(*t.dns, REAL(sendmsg)(fd, msg, flags));
  FdState* s = t.udp;
  if (s == nullptr || msg == nullptr) {
    if ((flags & MSG_FASTOPEN) && msg != nullptr && msg->msg_name != nullptr &&
        !socksify::ReentryGuard::active()) {
      return fast_open(fd, *msg, flags);
    }
    return REAL(sendmsg)(fd, msg, flags);
  }
  return send_via_relay(fd, *s, *msg, flags);
}

SOCKSIFY_HOOK int sendmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_write(fd) != 0) return -1;
  FdState* s = t.udp;
  if (s == nullptr || msgs == nullptr) return REAL(sendmmsg)(fd, msgs, n, flags);
  return socksify::to_c(socksify::guarded<Result<unsigned>>(
      [&] { return socksify::udp_sendmmsg(fd, *s, msgs, n, flags); }));
}

SOCKSIFY_HOOK ssize_t send(int fd, const void* buf, size_t len, int flags) {
  iovec v;
  return connected_write(
      fd, flags, [&] { return REAL(send)(fd, buf, len, flags); },
      [&] { return one_buffer(buf, len, v); });
}

SOCKSIFY_HOOK ssize_t write(int fd, const void* buf, size_t len) {
  iovec v;
  return connected_write(
      fd, 0, [&] { return REAL(write)(fd, buf, len); }, [&] { return one_buffer(buf, len, v); });
}

SOCKSIFY_HOOK ssize_t writev(int fd, const iovec* iov, int count) {
  return connected_write(
      fd, 0, [&] { return REAL(writev)(fd, iov, count); }, [&] { return buffers(iov, count); });
}

// --- in ---

SOCKSIFY_HOOK ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr,
                               socklen_t* addr_len) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_read(fd, flags) != 0) return -1;
  FdState* s = t.udp;
  if (s == nullptr || !socksify::udp_receives_from_relay(*s)) {
    if (s != nullptr && socksify::dns_udp_active(*s) && addr != nullptr && addr_len != nullptr) {
      return recv_dns_answer(fd, *s, buf, len, flags, addr, addr_len);
    }
    return REAL(recvfrom)(fd, buf, len, flags, addr, addr_len);
  }
  iovec v;
  msghdr m = one_buffer(buf, len, v);
  if (addr != nullptr && addr_len != nullptr) {
    m.msg_name = addr;
    m.msg_namelen = *addr_len;
  }
  const ssize_t n = recv_via_relay(fd, *s, m, flags);
  if (n >= 0 && m.msg_name != nullptr) *addr_len = m.msg_namelen;
  return n;
}

SOCKSIFY_HOOK ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_read(fd, flags) != 0) return -1;
  FdState* s = t.udp;
  if (s == nullptr || msg == nullptr || !socksify::udp_receives_from_relay(*s)) {
    const ssize_t n = REAL(recvmsg)(fd, msg, flags);
    if (n >= 0 && s != nullptr && msg != nullptr && socksify::dns_udp_active(*s)) {
      socksify::keeping_errno([&] { socksify::dns_udp_received(*s, *msg); });
    }
    return n;
  }
  return recv_via_relay(fd, *s, *msg, flags);
}

SOCKSIFY_HOOK int recvmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags, timespec* timeout) {
  const Tracked t = tracked(fd);
  if (t.handshaking) return busy();
  if (t.early && socksify::tcp_io::early_read(fd, flags) != 0) return -1;
  FdState* s = t.udp;
  if (s == nullptr || msgs == nullptr || !socksify::udp_receives_from_relay(*s)) {
    const int got = REAL(recvmmsg)(fd, msgs, n, flags, timeout);
    if (got > 0 && s != nullptr && socksify::dns_udp_active(*s)) {
      socksify::keeping_errno([&] {
        for (int i = 0; i < got; ++i) socksify::dns_udp_received(*s, msgs[i].msg_hdr);
      });
    }
    return got;
  }
  return socksify::to_c(socksify::guarded<Result<unsigned>>(
      [&] { return socksify::udp_recvmmsg(fd, *s, msgs, n, flags, timeout); }));
}

SOCKSIFY_HOOK ssize_t recv(int fd, void* buf, size_t len, int flags) {
  iovec v;
  return connected_read(
      fd, flags, [&] { return REAL(recv)(fd, buf, len, flags); },
      [&] { return one_buffer(buf, len, v); });
}

SOCKSIFY_HOOK ssize_t read(int fd, void* buf, size_t len) {
  iovec v;
  return connected_read(
      fd, 0, [&] { return REAL(read)(fd, buf, len); }, [&] { return one_buffer(buf, len, v); });
}

SOCKSIFY_HOOK ssize_t readv(int fd, const iovec* iov, int count) {
  return connected_read(
      fd, 0, [&] { return REAL(readv)(fd, iov, count); }, [&] { return buffers(iov, count); });
}

// --- _FORTIFY_SOURCE variants: libc's buffer check, then the hook above (as
// libc's own __recv_chk and friends do: check, then the plain call) ---

SOCKSIFY_HOOK ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  if (len > buflen) __chk_fail();
  return recv(fd, buf, len, flags);
}

SOCKSIFY_HOOK ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags,
                                     sockaddr* addr, socklen_t* addr_len) {
  if (len > buflen) __chk_fail();
  return recvfrom(fd, buf, len, flags, addr, addr_len);
}

SOCKSIFY_HOOK ssize_t __read_chk(int fd, void* buf, size_t len, size_t buflen) {
  if (len > buflen) __chk_fail();
  return read(fd, buf, len);
}

// The original SOCKS library's names for the hooks above (socksify/socksify.h).
SOCKSIFY_R_NAME(sendto)
SOCKSIFY_R_NAME(recvfrom)
SOCKSIFY_R_NAME(sendmsg)
SOCKSIFY_R_NAME(recvmsg)
SOCKSIFY_R_NAME(send)
SOCKSIFY_R_NAME(recv)
SOCKSIFY_R_NAME(write)
SOCKSIFY_R_NAME(read)
