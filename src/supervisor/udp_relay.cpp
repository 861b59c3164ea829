#include "supervisor/udp_relay.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/session_io.hpp"
#include "core/session_outcome.hpp"
#include "socks5/codec.hpp"
#include "supervisor/target_memory.hpp"

namespace socksify::supervisor {
namespace {

std::atomic<int> g_relays{0};

struct Relay {
  OwnedFd control;  // the association lives as long as this connection
  OwnedFd out;      // connected to the proxy's relay
  OwnedFd local;    // 127.0.0.1: what the program's socket is connected to
  Endpoint dst;
  Endpoint program;  // the program's socket's address, as `local` sees it
};

std::optional<Endpoint> local_address(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (ep) return ep->unmapped();
  return std::nullopt;
}

void run(Relay r) {
  constexpr std::size_t kMax = 65536 + socks5::kMaxUdpHeader;
  std::vector<std::byte> buf(kMax);
  auto last = std::chrono::steady_clock::now();
  for (;;) {
    pollfd p[3] = {
        {r.local.get(), POLLIN, 0}, {r.out.get(), POLLIN, 0}, {r.control.get(), POLLIN, 0}};
    const int n = ::poll(p, 3, 1000);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) {
      if (std::chrono::steady_clock::now() - last > kUdpRelayIdle) break;
      continue;
    }
    last = std::chrono::steady_clock::now();
    if (p[2].revents) break;  // the proxy ended the association (or sent bytes it must not)
    if (p[0].revents & POLLIN) {
      sockaddr_storage from;
      socklen_t from_len = sizeof from;
      const auto header = socks5::encode_udp_header(buf, r.dst);
      if (!header) break;
      const ssize_t got = ::recvfrom(r.local.get(), buf.data() + *header, buf.size() - *header,
                                     MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
      const auto src = got >= 0
                           ? Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_len)
                           : std::nullopt;
      if (src && src->unmapped() == r.program) {
        ::send(r.out.get(), buf.data(), *header + static_cast<std::size_t>(got), MSG_NOSIGNAL);
      }
    }
    if (p[1].revents & POLLIN) {
      const ssize_t got = ::recv(r.out.get(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (got <= 0) continue;
      const auto h = socks5::decode_udp_header(std::span(buf).first(static_cast<std::size_t>(got)));
      if (h.status != socks5::DecodeStatus::Ok || h.value.frag != 0) continue;
      // Connected semantics: only the destination's datagrams (any source for
      // a destination named by host name: the proxy resolved it).
      if (r.dst.is_ip() && !(h.value.address.unmapped() == r.dst.unmapped())) continue;
      sockaddr_storage to;
      const socklen_t to_len = r.program.to_sockaddr(to);
      ::sendto(r.local.get(), buf.data() + h.size, static_cast<std::size_t>(got) - h.size,
               MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&to), to_len);
    }
  }
  log::debug("UDP relay to {} closed", r.dst);
  g_relays.fetch_sub(1);
}

Status open_relay(const Runtime& rt, Relay& r) {
  r.out = OwnedFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  r.local = OwnedFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  r.control = OwnedFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!r.out || !r.local || !r.control) return Errno{errno};
  sockaddr_in any{};
  any.sin_family = AF_INET;
  sockaddr_in loop = any;
  loop.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(r.out.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 ||
      ::bind(r.local.get(), reinterpret_cast<sockaddr*>(&loop), sizeof loop) != 0) {
    return Errno{errno};
  }
  const auto out_addr = local_address(r.out.get());
  if (!out_addr) return Errno{errno};
  // DST.ADDR/PORT: where our datagrams will come from (0.0.0.0 and our port:
  // the proxy takes the address it sees).
  const std::uint8_t zero[4] = {0, 0, 0, 0};
  const Endpoint request = Endpoint::ipv4(zero, out_addr->port());
  SystemSessionIo io;
  SessionOutcome outcome;
  SessionOptions options;
  options.report = log_session;
  options.subject = &r.dst;
  options.group = route_group_for(rt, r.dst);  // `route ... via NAME` as for TCP
  options.may_replace_socket = false;          // an IPv4 relay socket: the proxy must be IPv4 too
  auto reply = open_session(rt, io, r.control.get(), socks5::Command::UdpAssociate, request,
                            outcome, options);
  if (!reply) return Errno{reply.error().code};
  Endpoint relay = reply->bound.unmapped();
  if (relay.kind() != Endpoint::Kind::IPv4) {
    log::error("UDP to {} failed: the proxy's relay {} is not an IPv4 address", r.dst, relay);
    return Errno{EAFNOSUPPORT};
  }
  if (relay.is_unspecified()) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getpeername(r.control.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      return Errno{errno};
    }
    auto proxy = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (!proxy) return Errno{ENOTCONN};
    const std::uint16_t port = relay.port();
    relay = proxy->unmapped();
    relay.set_port(port);
  }
  sockaddr_storage ss;
  const socklen_t len = relay.to_sockaddr(ss);
  if (::connect(r.out.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return Errno{errno};
  log::debug("UDP to {}: association via the supervisor, relay {}", r.dst, relay);
  return {};
}

}  // namespace

Status connect_through_udp_relay(const Runtime& rt, int copy, int family, const Endpoint& dst) {
  if (g_relays.fetch_add(1) >= kMaxUdpRelays) {
    g_relays.fetch_sub(1);
    log::error("refusing UDP to {}: {} UDP associations are open already", dst, kMaxUdpRelays);
    return Errno{ENOBUFS};
  }
  Relay r;
  r.dst = dst;
  Status st = open_relay(rt, r);
  std::optional<Endpoint> local = st ? local_address(r.local.get()) : std::nullopt;
  if (st && local) {
    sockaddr_storage ss;
    const socklen_t len = (family == AF_INET6 ? local->v4_mapped() : *local).to_sockaddr(ss);
    if (::connect(copy, reinterpret_cast<sockaddr*>(&ss), len) != 0) st = Errno{errno};
  } else if (st) {
    st = Errno{EIO};
  }
  const auto program = st ? local_address(copy) : std::nullopt;
  if (!st || !program) {
    g_relays.fetch_sub(1);
    return st ? Status(Errno{EIO}) : st;
  }
  r.program = *program;
  try {
    std::thread(run, std::move(r)).detach();
  } catch (const std::system_error&) {
    g_relays.fetch_sub(1);
    return Errno{EAGAIN};
  }
  return {};
}

}  // namespace socksify::supervisor
