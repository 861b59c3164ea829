#include "core/dns_intercept.hpp"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "base/ascii.hpp"
#include "base/endpoint.hpp"
#include "base/loopback.hpp"
#include "base/sockaddr_copy.hpp"
#include "core/dns_injector.hpp"
#include "core/dns_resolvers.hpp"
#include "core/dns_upstream.hpp"
#include "core/errno_saver.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"
#include "core/resolve_policy.hpp"
#include "core/runtime.hpp"
#include "core/tree_names.hpp"
#include "dns/dns_message.hpp"
#include "dns/dns_stub.hpp"
#include "dns/name_table_source.hpp"
#include "dns/system_resolvers.hpp"

namespace socksify {

// One resolver a query went to, by its DNS ID, for the source an unconnected
// socket's receive reports (most sockets talk to one resolver; c-ares and
// glibc may alternate between several on one socket).
struct DnsSent {
  std::uint16_t id = 0;
  sockaddr_storage to{};
  socklen_t to_len = 0;
};

struct DnsSocket {
  static constexpr int kRecent = 8;
  std::mutex mu;
  // UDP: connected to the injector in the program's stead of `peer`.
  std::atomic<bool> connected{false};
  // TCP, or a connected UDP socket: the resolver the program named.
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  // UDP, unconnected: the last queries' resolvers (ring, under mu).
  DnsSent recent[kRecent];
  int next = 0;
  // TCP: our end of the stream, the bytes of a query not complete yet, how
  // many bytes the program wrote and we took (to wait for the rest of a write).
  std::atomic<int> server{-1};
  std::vector<std::byte> pending;
  std::uint64_t written = 0, taken = 0;
};

namespace {

// Loopback answers arrive within microseconds; a write's bytes not at our end
// after this are treated as lost (the program's resolver retries).
constexpr int kStreamWaitMs = 200;
constexpr std::size_t kMaxUdpQuery = 4096;  // a question is at most a few hundred bytes

bool intercepting(const Runtime& rt, const Endpoint& dst) noexcept {
  return dst.port() == dns::kDnsPort && rt.configured() && rt.settings().remote_dns() &&
         rt.names() != nullptr && !rt.is_proxy(dst) && is_system_resolver(dst);
}

// Every datagram a tracked UDP socket sends asks this first: one load for
// anything not sent to port 53.
bool to_dns_port(const sockaddr* sa, socklen_t len) noexcept {
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    return reinterpret_cast<const sockaddr_in*>(sa)->sin_port == htons(dns::kDnsPort);
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    return reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port == htons(dns::kDnsPort);
  }
  return false;
}

// The addresses the stub hands out: the same table getaddrinfo() answers from
// (the tree's under the launcher, core/tree_names.hpp), except for the names
// getaddrinfo() does not send to the proxy either:
// - localhost and *.localhost are the loopback addresses (RFC 6761 §6.3 lets a
//   resolver answer them itself; a fake address would send "localhost" to the
//   proxy, which would connect to its own loopback);
// - a name of a direct rule is Direct: its query goes to the resolver the
//   program chose, as getaddrinfo() of it does (the user asked for that).
class InterceptSource final : public dns::AddressSource {
 public:
  explicit InterceptSource(FakeNames& table) : table_(table) {}
  Status address_for(std::string_view name, int family,
                     std::span<std::uint8_t> out) noexcept override {
    if (is_localhost(name)) {
      if (family == AF_INET && out.size() >= 4) {
        static constexpr std::uint8_t kLoop4[4] = {127, 0, 0, 1};
        std::copy(std::begin(kLoop4), std::end(kLoop4), out.begin());
        return Status::Found;
      }
      if (family == AF_INET6 && out.size() >= 16) {
        std::fill(out.begin(), out.begin() + 16, std::uint8_t{0});
        out[15] = 1;
        return Status::Found;
      }
      return Status::NoAddress;
    }
    if (resolves_locally(name)) return Status::Direct;
    return table_.address_for(name, family, out);
  }
  Status name_for(std::span<const std::uint8_t> addr, std::span<char> out,
                  std::size_t* size) noexcept override {
    return table_.name_for(addr, out, size);
  }

 private:
  static bool is_localhost(std::string_view name) {
    constexpr std::string_view kLocal = "localhost";
    if (name.size() < kLocal.size()) return false;
    const std::string_view tail = name.substr(name.size() - kLocal.size());
    if (!ascii::iequals(tail, kLocal)) return false;
    return name.size() == kLocal.size() || name[name.size() - kLocal.size() - 1] == '.';
  }
  dns::NameTableSource table_;
};

InterceptSource table_source(const Runtime& rt) {
  return InterceptSource(*rt.names());
}

dns::StubOptions stub_options(const Runtime& rt) {
  dns::StubOptions o;
  o.forward_other_types = rt.settings().dns_upstream.kind() != Endpoint::Kind::None;
  return o;
}

DnsSocket* dns_part(FdState& s) {
  if (DnsSocket* d = s.dns.get()) return d;
  auto* made = new (std::nothrow) DnsSocket;
  if (made == nullptr) return nullptr;
  DnsSocket* in_place = s.dns.publish(made);
  if (in_place != made) delete made;
  return in_place;
}

bool ipv6_only(int fd) {
  int v = 0;
  socklen_t len = sizeof v;
  return REAL(getsockopt)(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len) == 0 && v != 0;
}

// The socket's local address, binding it first (to the wildcard, port 0: what
// the kernel's own autobind on a first sendto gives) when it has none.
Result<socklen_t> local_address(int fd, sockaddr_storage& out) {
  socklen_t len = sizeof out;
  if (REAL(getsockname)(fd, reinterpret_cast<sockaddr*>(&out), &len) != 0) return Errno{errno};
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&out), len);
  if (!ep) return Errno{EAFNOSUPPORT};
  if (ep->port() != 0) return len;
  sockaddr_storage any{};
  any.ss_family = out.ss_family;
  const socklen_t any_len = out.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (REAL(bind)(fd, reinterpret_cast<sockaddr*>(&any), any_len) != 0) return Errno{errno};
  len = sizeof out;
  if (REAL(getsockname)(fd, reinterpret_cast<sockaddr*>(&out), &len) != 0) return Errno{errno};
  return len;
}

// The datagram's bytes, gathered (a query fits kMaxUdpQuery; more is no query).
std::size_t gather(const msghdr& msg, std::span<std::byte> out, bool* too_big) {
  std::size_t n = 0;
  *too_big = false;
  for (std::size_t i = 0; i < msg.msg_iovlen; ++i) {
    const iovec& v = msg.msg_iov[i];
    if (v.iov_len > out.size() - n) {
      *too_big = true;
      return 0;
    }
    if (v.iov_len != 0) std::memcpy(out.data() + n, v.iov_base, v.iov_len);
    n += v.iov_len;
  }
  return n;
}

std::size_t payload_length(const msghdr& msg) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < msg.msg_iovlen; ++i) n += msg.msg_iov[i].iov_len;
  return n;
}

void remember(DnsSocket& d, std::span<const std::byte> query, const sockaddr* to, socklen_t len) {
  if (query.size() < 2) return;
  std::lock_guard lock(d.mu);
  DnsSent& e = d.recent[d.next];
  d.next = (d.next + 1) % DnsSocket::kRecent;
  e.id = static_cast<std::uint16_t>((static_cast<unsigned>(query[0]) << 8) |
                                    static_cast<unsigned>(query[1]));
  e.to_len = store_sockaddr(e.to, to, len);
}

// -d: one line per query taken, saying what became of it.
void log_query(std::span<const std::byte> message, const sockaddr* to, socklen_t to_len,
               const dns::StubOutcome& outcome) {
  if (!log::enabled(LogLevel::Debug)) return;
  const dns::Query q = dns::parse_query(message);
  const auto dst = Endpoint::from_sockaddr(to, to_len).value_or(Endpoint{});
  const std::string_view name = q.has_question && q.question.text_ok ? q.question.name() : "?";
  const unsigned qtype = q.has_question ? q.question.qtype : 0;
  const char* what = outcome.action == dns::StubAction::Reply     ? "answered by socksify"
                     : outcome.action == dns::StubAction::Forward ? "sent to dns_upstream"
                     : outcome.action == dns::StubAction::Direct
                         ? "a direct-rule name, left to the program's resolver"
                         : "dropped";
  log::debug("DNS query for {} (type {}) to {}: {}", name, qtype, dst, what);
}

// REFUSED for a query whose name goes to a resolver we cannot reach for it.
std::size_t refused(std::span<const std::byte> message, std::span<std::byte> out) {
  const dns::Query q = dns::parse_query(message);
  return dns::build_response(out, dns::udp_response_limit(q), q, dns::Rcode::Refused);
}

}  // namespace

// --- UDP ---

std::optional<Result<std::size_t>> dns_udp_send(int fd, FdState& s, const msghdr& msg, int flags) {
  const Runtime& rt = Runtime::get();
  DnsSocket* d = s.dns.get();
  const sockaddr* to = nullptr;
  socklen_t to_len = 0;
  if (msg.msg_name != nullptr && msg.msg_namelen != 0) {
    to = static_cast<const sockaddr*>(msg.msg_name);
    to_len = msg.msg_namelen;
    if (!to_dns_port(to, to_len)) return std::nullopt;
    auto dst = Endpoint::from_sockaddr(to, to_len);
    if (!dst || !intercepting(rt, *dst)) return std::nullopt;
  } else if (d != nullptr && d->connected.load(std::memory_order_acquire)) {
    to = reinterpret_cast<const sockaddr*>(&d->peer);
    to_len = d->peer_len;
  } else {
    return std::nullopt;
  }
  ReentryGuard guard;
  ErrnoSaver keep;
  const std::size_t length = payload_length(msg);
  std::byte query[kMaxUdpQuery];
  bool too_big = false;
  const std::size_t n = gather(msg, query, &too_big);
  // Not a query (too big for one): dropped, as a resolver would; it never leaves.
  if (too_big) return Result<std::size_t>(length);
  if (d == nullptr) d = dns_part(s);
  if (d == nullptr) return Result<std::size_t>(Errno{ENOMEM});
  sockaddr_storage local{};
  auto local_len = local_address(fd, local);
  if (!local_len) return Result<std::size_t>(local_len.error());
  const bool v6only = local.ss_family == AF_INET6 && ipv6_only(fd);
  // The receive side must know about this socket before the answer arrives.
  remember(*d, std::span(query, n), to, to_len);
  InterceptSource source = table_source(rt);
  // Our answers are a few records; a response that would not fit is sent truncated.
  std::byte answer[kMaxUdpQuery];
  const auto outcome = dns::answer_udp(std::span(query, n), source, stub_options(rt), answer);
  log_query(std::span(query, n), to, to_len, outcome);
  switch (outcome.action) {
    case dns::StubAction::Reply:
      (void)dns_inject(std::span(answer, outcome.size), local, *local_len, v6only);
      break;
    case dns::StubAction::Forward:
      if (!dns_forward(std::span(query, n), &local, *local_len, v6only, -1)) {
        const dns::Query q = dns::parse_query(std::span(query, n));
        const std::size_t size =
            dns::build_response(answer, dns::udp_response_limit(q), q, dns::Rcode::ServFail);
        if (size != 0) (void)dns_inject(std::span(answer, size), local, *local_len, v6only);
      }
      break;
    case dns::StubAction::Direct:
      // A name the user sends direct: an unconnected socket's query goes to
      // the resolver as the program sent it (its answer comes back from
      // there). A socket connected to our injector cannot hear that resolver:
      // REFUSED, and the program's resolver moves on.
      if (!d->connected.load(std::memory_order_acquire)) {
        const ssize_t sent = REAL(sendmsg)(fd, &msg, flags);
        if (sent < 0) return Result<std::size_t>(Errno{errno});
        return Result<std::size_t>(static_cast<std::size_t>(sent));
      }
      if (const std::size_t size = refused(std::span(query, n), answer)) {
        (void)dns_inject(std::span(answer, size), local, *local_len, v6only);
      }
      break;
    case dns::StubAction::Drop:
      break;
  }
  return Result<std::size_t>(length);
}

std::optional<Status> dns_udp_connect(int fd, FdState& s, const sockaddr* addr, socklen_t len) {
  DnsSocket* d = s.dns.get();
  auto dst = Endpoint::from_sockaddr(addr, len);
  if (!dst || !intercepting(Runtime::get(), *dst)) {
    if (d != nullptr && d->connected.exchange(false, std::memory_order_acq_rel)) {
      s.peer.clear();
    }
    return std::nullopt;
  }
  ReentryGuard guard;
  if (d == nullptr) d = dns_part(s);
  if (d == nullptr) return Status(Errno{ENOMEM});
  const int family = addr->sa_family;
  sockaddr_storage inj{};
  auto inj_len = dns_injector_address(family, family == AF_INET6 && ipv6_only(fd), inj);
  if (!inj_len) return Status(inj_len.error());
  if (REAL(connect)(fd, reinterpret_cast<sockaddr*>(&inj), *inj_len) != 0) {
    return Status(Errno{errno});
  }
  {
    std::lock_guard lock(d->mu);
    d->peer_len = store_sockaddr(d->peer, addr, len);
  }
  d->connected.store(true, std::memory_order_release);
  // getpeername() names the resolver (shim/peer.cpp reads the state's peer).
  s.peer.set(addr, len);
  return Status{};
}

bool dns_udp_connected(const FdState& s) noexcept {
  const DnsSocket* d = s.dns.get();
  return d != nullptr && d->connected.load(std::memory_order_acquire);
}

bool dns_udp_active(const FdState& s) noexcept {
  return s.dns.get() != nullptr;
}

void dns_udp_received(const FdState& s, msghdr& msg) noexcept {
  DnsSocket* d = s.dns.get();
  if (d == nullptr || msg.msg_name == nullptr) return;
  const auto* from = static_cast<const sockaddr*>(msg.msg_name);
  if (!dns_is_injector(from, msg.msg_namelen)) return;
  sockaddr_storage resolver{};
  socklen_t resolver_len = 0;
  {
    std::lock_guard lock(d->mu);
    if (d->connected.load(std::memory_order_acquire)) {
      resolver = d->peer;
      resolver_len = d->peer_len;
    } else {
      std::uint8_t id[2] = {};
      std::size_t got = 0;
      for (std::size_t i = 0; i < msg.msg_iovlen && got < 2; ++i) {
        const auto* p = static_cast<const std::uint8_t*>(msg.msg_iov[i].iov_base);
        for (std::size_t j = 0; j < msg.msg_iov[i].iov_len && got < 2; ++j) id[got++] = p[j];
      }
      const std::uint16_t want = static_cast<std::uint16_t>((id[0] << 8) | id[1]);
      // Newest first: the answer to the latest query with this ID.
      for (int k = 0; k < DnsSocket::kRecent; ++k) {
        const DnsSent& e =
            d->recent[(d->next - 1 - k + 2 * DnsSocket::kRecent) % DnsSocket::kRecent];
        if (e.to_len != 0 && (got < 2 || e.id == want)) {
          resolver = e.to;
          resolver_len = e.to_len;
          break;
        }
      }
    }
  }
  if (resolver_len == 0) return;
  // An IPv6 socket that sent to an IPv4 sockaddr hears from ::ffff:a.b.c.d.
  sockaddr_storage shown = resolver;
  socklen_t shown_len = resolver_len;
  if (from->sa_family == AF_INET6 && resolver.ss_family == AF_INET) {
    auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&resolver), resolver_len);
    if (ep) shown_len = ep->v4_mapped().to_sockaddr(shown);
  }
  const socklen_t room = msg.msg_namelen;
  std::memcpy(msg.msg_name, &shown, std::min<socklen_t>(room, shown_len));
  msg.msg_namelen = shown_len;
}

// --- TCP ---

std::optional<Status> dns_tcp_connect(int fd, const sockaddr* addr, socklen_t len) {
  auto dst = Endpoint::from_sockaddr(addr, len);
  if (!dst || !intercepting(Runtime::get(), *dst)) return std::nullopt;
  ReentryGuard guard;
  const int family = addr->sa_family;
  const bool v6only = family == AF_INET6 && ipv6_only(fd);
  // A listener for this one connection: nobody else can be accepted in its
  // place (and the peer is checked anyway).
  sockaddr_storage where{};
  auto where_len = dns_injector_address(family, v6only, where);  // loopback, the right form
  if (!where_len) return Status(where_len.error());
  const bool listen_v6 = family == AF_INET6 && v6only;
  std::atomic<int> listener{-1};
  adopt_own_fd(REAL(socket)(listen_v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
               listener);
  struct Closer {
    std::atomic<int>& fd;
    ~Closer() { close_own_fd(fd); }
  } close_listener{listener};
  if (listener.load() < 0) return Status(Errno{errno});
  sockaddr_storage bind_to{};
  const socklen_t bind_len = loopback_sockaddr(listen_v6, bind_to);
  socklen_t got_len = sizeof bind_to;
  if (REAL(bind)(listener.load(), reinterpret_cast<sockaddr*>(&bind_to), bind_len) != 0 ||
      REAL(listen)(listener.load(), 1) != 0 ||
      REAL(getsockname)(listener.load(), reinterpret_cast<sockaddr*>(&bind_to), &got_len) != 0) {
    return Status(Errno{errno});
  }
  // The program's socket connects to it, in the form its family needs.
  const std::uint16_t port = listen_v6 ? reinterpret_cast<sockaddr_in6*>(&bind_to)->sin6_port
                                       : reinterpret_cast<sockaddr_in*>(&bind_to)->sin_port;
  if (family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&where)->sin6_port = port;
  } else {
    reinterpret_cast<sockaddr_in*>(&where)->sin_port = port;
  }
  int in_progress = 0;
  if (REAL(connect)(fd, reinterpret_cast<sockaddr*>(&where), *where_len) != 0) {
    if (errno != EINPROGRESS) return Status(Errno{errno});
    in_progress = EINPROGRESS;
  }
  // Loopback: the handshake completes at once; a bounded wait all the same.
  pollfd p{listener.load(), POLLIN, 0};
  int r;
  do {
    r = REAL(poll)(&p, 1, 1000);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return Status(Errno{ETIMEDOUT});
  std::atomic<int> server{-1};
  adopt_own_fd(REAL(accept4)(listener.load(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK),
               server);
  if (server.load() < 0) return Status(Errno{errno});
  FdState* s = fd_table().create(fd, FdState::Kind::DnsTcp);
  DnsSocket* d = s != nullptr ? dns_part(*s) : nullptr;
  if (d == nullptr) {
    close_own_fd(server);
    return Status(Errno{ENOMEM});
  }
  own_fds().hand_over(server, d->server);
  d->peer_len = store_sockaddr(d->peer, addr, len);
  s->peer.set(addr, len);  // getpeername() names the resolver
  if (in_progress != 0) return Status(Errno{in_progress});
  return Status{};
}

ssize_t dns_tcp_sent(FdState& s, ssize_t sent) noexcept {
  if (sent <= 0) return sent;
  ErrnoSaver keep;
  DnsSocket* d = s.dns.get();
  if (d == nullptr) return sent;
  ReentryGuard guard;
  const Runtime& rt = Runtime::get();
  std::lock_guard lock(d->mu);
  const int server = d->server.load(std::memory_order_acquire);
  if (server < 0) return sent;
  try {
    d->written += static_cast<std::uint64_t>(sent);
    std::byte buf[4096];
    while (d->taken < d->written) {
      ssize_t n = REAL(recv)(server, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        pollfd p{server, POLLIN, 0};
        if (REAL(poll)(&p, 1, kStreamWaitMs) <= 0) break;
        continue;
      }
      if (n <= 0) break;
      d->taken += static_cast<std::uint64_t>(n);
      d->pending.insert(d->pending.end(), buf, buf + n);
    }
    std::vector<std::byte> out(dns::kMaxMessage + 2);
    std::size_t used = 0;
    InterceptSource source = table_source(rt);
    const auto options = stub_options(rt);
    for (;;) {
      const auto frame = dns::next_tcp_frame(std::span(d->pending).subspan(used));
      if (frame.status != dns::FrameStatus::Ok) break;
      used += frame.size;
      const auto outcome = dns::answer_tcp(frame.message, source, options, out);
      log_query(frame.message, reinterpret_cast<const sockaddr*>(&d->peer), d->peer_len, outcome);
      if (outcome.action == dns::StubAction::Reply) {
        // Answers are small and the program reads them: a stream that cannot
        // take one is ended, so the program's resolver retries instead of waiting.
        const ssize_t w = REAL(send)(server, out.data(), outcome.size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w != static_cast<ssize_t>(outcome.size)) shutdown(server, SHUT_RDWR);
      } else if (outcome.action == dns::StubAction::Forward) {
        if (!dns_forward(frame.message, nullptr, 0, false, server)) {
          const dns::Query q = dns::parse_query(frame.message);
          const std::size_t size = dns::build_response(std::span(out).subspan(2), dns::kMaxMessage,
                                                       q, dns::Rcode::ServFail);
          if (size != 0 && dns::put_tcp_length(out, size)) {
            (void)REAL(send)(server, out.data(), size + 2, MSG_DONTWAIT | MSG_NOSIGNAL);
          }
        }
      } else if (outcome.action == dns::StubAction::Direct) {
        const dns::Query q = dns::parse_query(frame.message);
        const std::size_t size = dns::build_response(std::span(out).subspan(2), dns::kMaxMessage, q,
                                                     dns::Rcode::Refused);
        if (size != 0 && dns::put_tcp_length(out, size)) {
          (void)REAL(send)(server, out.data(), size + 2, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
      } else {
        // RFC 7766 §6.2.3 lets a server close on a message it cannot handle.
        shutdown(server, SHUT_RDWR);
      }
    }
    d->pending.erase(d->pending.begin(), d->pending.begin() + static_cast<std::ptrdiff_t>(used));
  } catch (...) {  // std::bad_alloc: end the stream, the program retries
    shutdown(server, SHUT_RDWR);
  }
  return sent;
}

void dns_intercept_reset_in_child() noexcept {
  dns_resolvers_reset_in_child();
  dns_injector_reset_in_child();
}

void dns_socket_reset_in_child(DnsSocket* d) noexcept {
  new (&d->mu) std::mutex;
}

void release_dns_socket(DnsSocket* d) noexcept {
  if (d == nullptr) return;
  if (d->server.load(std::memory_order_relaxed) >= 0) close_own_fd(d->server);
  delete d;
}

}  // namespace socksify
