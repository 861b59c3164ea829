// Datagrams in from the relay (RFC 1928 §7): the header is received into a
// buffer of its own in front of the program's buffers, so the payload lands
// where the program wants it without a copy, as long as the header is as long
// as expected (it nearly always is: the length is learned from the last one).
#include "core/udp_recv.hpp"

#include <errno.h>
#include <limits.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "core/fd_table.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/runtime.hpp"
#include "core/scatter.hpp"
#include "core/tree_names.hpp"
#include "core/udp_address.hpp"
#include "core/udp_association.hpp"
#include "core/udp_datagram.hpp"
#include "core/udp_drop_wait.hpp"
#include "socks5/codec.hpp"

namespace socksify {
namespace {

// Dropped datagrams are logged at most once a second per reason: a flood of
// stray packets must not become a flood of log lines.
enum class DropReason : std::uint8_t { NotRelay, Fragment, Malformed, UnknownName, Family, Count };

bool may_log(DropReason why) {
  static std::atomic<std::int64_t> last[static_cast<int>(DropReason::Count)];
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count() +
                           1;  // never 0, the initial value
  auto& slot = last[static_cast<int>(why)];
  std::int64_t prev = slot.load(std::memory_order_relaxed);
  return prev != now && slot.compare_exchange_strong(prev, now, std::memory_order_relaxed);
}

Result<std::size_t> pass_through(int fd, msghdr& msg, int flags) {
  const ssize_t n = REAL(recvmsg)(fd, &msg, flags);
  if (n < 0) return Errno{errno};
  return static_cast<std::size_t>(n);
}

// With MSG_PEEK a datagram we drop is still queued: take it off, or every
// later peek would see it again.
void discard_peeked(int fd, int flags) {
  if (!(flags & MSG_PEEK)) return;
  msghdr none{};
  REAL(recvmsg)(fd, &none, MSG_DONTWAIT | MSG_TRUNC);
}

// The source address to report for a datagram, in the socket's family.
// 0 when there is none to give (the datagram is then dropped).
socklen_t report_source(const UdpAssociation& a, const Endpoint& src, sockaddr_storage& out) {
  if (src.kind() == Endpoint::Kind::Name) {
    // A relay may name the source by host name: the program knows it by its
    // remote-DNS fake address, if it resolved it through us.
    const FakeNames* names = Runtime::get().names();
    std::uint8_t v4[4];
    std::uint8_t v6[16];
    if (names != nullptr && names->find_address(src.host_name(), AF_INET, v4)) {
      return sockaddr_in_family(Endpoint::ipv4(v4, src.port()), a.family, out);
    }
    if (names != nullptr && names->find_address(src.host_name(), AF_INET6, v6)) {
      return sockaddr_in_family(Endpoint::ipv6(v6, src.port()), a.family, out);
    }
    if (may_log(DropReason::UnknownName)) {
      log::warn("dropping a UDP datagram from {} via {}: a host name with no address to show", src,
                a.proxy);
    }
    return 0;
  }
  const socklen_t len = sockaddr_in_family(src, a.family, out);
  if (len == 0 && may_log(DropReason::Family)) {
    log::warn("dropping a UDP datagram from {} via {}: an IPv6 source for an IPv4 socket", src,
              a.proxy);
  }
  return len;
}

void drop_log(DropReason why, const UdpAssociation& a, const sockaddr_storage& from,
              socklen_t from_len) {
  if (!may_log(why)) return;
  const auto src = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&from), from_len);
  switch (why) {
    case DropReason::NotRelay:
      log::warn("dropping a UDP datagram from {}: not the proxy's relay (via {})",
                src.value_or(Endpoint{}), a.proxy);
      break;
    case DropReason::Fragment:
      log::warn("dropping a fragmented UDP datagram from the relay via {} (RFC 1928 §7 FRAG)",
                a.proxy);
      break;
    case DropReason::Malformed:
      log::warn("dropping a UDP datagram with a malformed header from the relay via {}", a.proxy);
      break;
    default:
      break;
  }
}

}  // namespace

bool udp_receives_from_relay(const FdState& s) noexcept {
  return s.udp.association() != nullptr && !s.udp.direct_peer();
}

Result<std::size_t> udp_recvmsg(int fd, FdState& s, msghdr& msg, int flags) {
  UdpAssociation* a = s.udp.association();
  // Unassociated, connected straight to a peer, or reading the error queue
  // (which holds no relay datagrams): the kernel's business.
  if (a == nullptr || s.udp.direct_peer() || (flags & MSG_ERRQUEUE)) {
    return pass_through(fd, msg, flags);
  }
  if (msg.msg_iovlen > static_cast<std::size_t>(IOV_MAX) - 2) return Errno{EMSGSIZE};
  const std::span<const iovec> user(msg.msg_iov, msg.msg_iovlen);
  const std::size_t capacity = scatter_size(user);
  IovArray all(msg.msg_iovlen + 2);
  if (!all.ok()) return Errno{ENOMEM};

  DropWait wait(fd, flags);
  int next_flags = flags;  // what the next receive asks for
  // Called for every datagram dropped: discard a peeked one, then the flags
  // for the next receive or the errno that ends the call.
  auto dropped = [&]() -> Result<int> {
    discard_peeked(fd, flags);
    return wait.after_drop();
  };
  for (;;) {
    const std::size_t expected = a->expected_header.load(std::memory_order_relaxed);
    // [header as expected | the program's buffers | slack]: a header longer
    // than expected pushes payload into the slack, never out of reach, so the
    // payload the program's buffers can hold is always there to move back.
    std::byte header[socks5::kMaxUdpHeader];
    std::byte slack[socks5::kMaxUdpHeader];
    all[0] = {header, expected};
    for (std::size_t i = 0; i < user.size(); ++i) all[i + 1] = user[i];
    all[all.size() - 1] = {slack, sizeof slack - expected};

    sockaddr_storage from{};
    msghdr in{};
    in.msg_name = &from;
    in.msg_namelen = sizeof from;
    in.msg_iov = all.data();
    in.msg_iovlen = all.size();
    in.msg_control = msg.msg_control;
    in.msg_controllen = msg.msg_controllen;
    // MSG_TRUNC: the kernel returns the datagram's full length.
    const ssize_t r = REAL(recvmsg)(fd, &in, next_flags | MSG_TRUNC);
    if (r < 0) {
      const int e = errno;
      if ((e == EAGAIN || e == EWOULDBLOCK) && next_flags != flags && wait.waits_again()) {
        auto f = wait.wait_readable();
        if (!f) return f.error();
        next_flags = f.value();
        continue;
      }
      return Errno{e};
    }
    // A sender may have replaced a dead association while we waited (the
    // proxy restarted): the new relay speaks for the socket now.
    if (UdpAssociation* now = s.udp.association(); now != nullptr) a = now;
    // RFC 1928 §7: only the relay speaks for the association.
    if (!is_relay_address(from, in.msg_namelen, a->relay)) {
      drop_log(DropReason::NotRelay, *a, from, in.msg_namelen);
      auto f = dropped();
      if (!f) return f.error();
      next_flags = f.value();
      continue;
    }
    const Unwrapped u = unwrap_datagram(std::span<const iovec>(all.data(), all.size()), expected,
                                        static_cast<std::size_t>(r), capacity);
    if (!u.ok) {
      drop_log(DropReason::Malformed, *a, from, in.msg_namelen);
      auto f = dropped();
      if (!f) return f.error();
      next_flags = f.value();
      continue;
    }
    // We never reassemble: RFC 1928 §7 lets a client drop fragments.
    if (u.frag != 0) {
      drop_log(DropReason::Fragment, *a, from, in.msg_namelen);
      auto f = dropped();
      if (!f) return f.error();
      next_flags = f.value();
      continue;
    }
    if (u.header_len != expected) {
      a->expected_header.store(static_cast<std::uint16_t>(u.header_len), std::memory_order_relaxed);
    }
    const Endpoint& src = u.source;
    const UdpPeer* peer = a->peer.load(std::memory_order_acquire);
    // A connected socket hears only its peer (the kernel filters by address
    // on a plain connected socket; here every datagram comes from the relay).
    if (peer != nullptr && peer->filter.is_ip() && !(src.unmapped() == peer->filter)) {
      auto f = dropped();
      if (!f) return f.error();
      next_flags = f.value();
      continue;
    }
    sockaddr_storage shown{};
    socklen_t shown_len = 0;
    if (peer != nullptr) {
      shown = peer->program_addr;
      shown_len = peer->program_len;
    } else {
      shown_len = report_source(*a, src, shown);
      if (shown_len == 0) {
        auto f = dropped();
        if (!f) return f.error();
        next_flags = f.value();
        continue;
      }
    }

    if (msg.msg_name != nullptr) {
      std::memcpy(msg.msg_name, &shown, std::min<socklen_t>(msg.msg_namelen, shown_len));
      msg.msg_namelen = shown_len;
    }
    msg.msg_controllen = in.msg_controllen;
    msg.msg_flags = (in.msg_flags & ~MSG_TRUNC) | (u.payload_len > capacity ? MSG_TRUNC : 0);
    return (flags & MSG_TRUNC) ? u.payload_len : u.delivered;
  }
}

Result<unsigned> udp_recvmmsg(int fd, FdState& s, mmsghdr* msgs, unsigned n, int flags,
                              timespec* timeout) {
  timespec deadline{};
  if (timeout != nullptr) {
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout->tv_sec;
    deadline.tv_nsec += timeout->tv_nsec;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec += 1;
      deadline.tv_nsec -= 1000000000L;
    }
  }
  unsigned done = 0;
  for (; done < n; ++done) {
    int f = flags & ~MSG_WAITFORONE;
    if ((flags & MSG_WAITFORONE) && done > 0) f |= MSG_DONTWAIT;
    auto r = udp_recvmsg(fd, s, msgs[done].msg_hdr, f);
    if (!r) {
      if (done == 0) return r.error();
      break;
    }
    msgs[done].msg_len = static_cast<unsigned>(r.value());
    // Like the kernel, the timeout is looked at after each datagram.
    if (timeout != nullptr) {
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec > deadline.tv_sec ||
          (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
        ++done;
        break;
      }
    }
  }
  return done;
}

}  // namespace socksify
