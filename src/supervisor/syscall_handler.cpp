#include "supervisor/syscall_handler.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <iterator>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/endpoint.hpp"
#include "core/log.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/session_io.hpp"
#include "core/session_outcome.hpp"
#include "supervisor/connect_claims.hpp"
#include "supervisor/dns_stub_server.hpp"
#include "supervisor/target_memory.hpp"
#include "supervisor/udp_relay.hpp"

namespace socksify::supervisor {
namespace {

// One datagram's worth: a UDP payload never exceeds this.
constexpr std::size_t kMaxDatagram = 65536;
constexpr std::size_t kMaxControl = 4096;
constexpr std::size_t kMaxIov = 1024;  // UIO_MAXIOV
constexpr std::size_t kMaxMmsg = 1024;

struct Answer {
  enum class Kind { Value, Error, Continue, Sent };
  Kind kind;
  long long value = 0;
  int error = 0;
};

Answer value(long long v) {
  return {Answer::Kind::Value, v, 0};
}
Answer error(int e) {
  return {Answer::Kind::Error, 0, e};
}
Answer carry_on() {
  return {Answer::Kind::Continue, 0, 0};
}
Answer already_sent() {
  return {Answer::Kind::Sent, 0, 0};
}
// The result of a call we made on the program's behalf.
Answer result_of(long long rc) {
  return rc < 0 ? error(errno) : value(rc);
}

void respond(int listener, const seccomp_notif& req, const Answer& a) {
  if (a.kind == Answer::Kind::Sent) return;
  seccomp_notif_resp resp{};
  resp.id = req.id;
  if (a.kind == Answer::Kind::Continue) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else if (a.kind == Answer::Kind::Error) {
    resp.error = -a.error;
  } else {
    resp.val = a.value;
  }
  // ENOENT: the call is gone (the thread was killed, or a signal interrupted
  // a wait that was not killable); nothing to answer.
  ::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

// The memory we read belonged to the notifying thread only if its
// notification is still pending once we are done reading.
bool still_pending(int listener, const seccomp_notif& req) {
  __u64 id = req.id;
  return ::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int sockopt_int(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, name, &v, &len) != 0) return -1;
  return v;
}

struct Sockaddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

Result<Sockaddr> read_sockaddr(pid_t tid, std::uint64_t address, std::uint64_t len) {
  Sockaddr out;
  if (len > sizeof out.ss) return Errno{EINVAL};
  out.len = static_cast<socklen_t>(len);
  if (auto st = read_memory(tid, address, std::as_writable_bytes(std::span(&out.ss, 1)).first(len));
      !st) {
    return st.error();
  }
  return out;
}

// Logs the one refusal line of a datagram we do not carry yet.
Answer refuse_udp(const Endpoint& dst, const char* call) {
  log::error("refusing {} to {}: UDP is not carried in the supervised mode yet", call, dst);
  return error(EACCES);
}

// The destination behind each tunnel we installed, by the socket's inode
// (unique among live sockets), for getpeername. Bounded: the oldest entries
// go first (a socket that old then reports the proxy as its peer).
class PeerBook {
 public:
  static constexpr std::size_t kMax = 65536;
  void add(ino_t ino, const Endpoint& dst) {
    std::lock_guard lock(mu_);
    if (peers_.insert_or_assign(ino, dst).second) order_.push_back(ino);
    while (order_.size() > kMax) {
      peers_.erase(order_.front());
      order_.pop_front();
    }
  }
  std::optional<Endpoint> find(ino_t ino) {
    std::lock_guard lock(mu_);
    const auto it = peers_.find(ino);
    if (it == peers_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  std::unordered_map<ino_t, Endpoint> peers_;
  std::deque<ino_t> order_;
};

PeerBook& peer_book() {
  static PeerBook book;
  return book;
}

std::optional<ino_t> inode_of(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return std::nullopt;
  return st.st_ino;
}

// The stream sockets a connect of ours is under way on (connect_claims.hpp).
ConnectClaims& connect_claims() {
  static ConnectClaims claims;
  return claims;
}

// The options a program commonly sets before connect, carried to our socket
// (as SystemSessionIo::replace_socket does in the library). A blocking
// program's timeouts and interface are among them: every blocking socket
// gets our socket in its place.
struct CarriedOption {
  int level, name;
};
constexpr CarriedOption kCarried[] = {
    {SOL_SOCKET, SO_KEEPALIVE}, {SOL_SOCKET, SO_RCVBUF},     {SOL_SOCKET, SO_SNDBUF},
    {SOL_SOCKET, SO_LINGER},    {SOL_SOCKET, SO_MARK},       {SOL_SOCKET, SO_PRIORITY},
    {SOL_SOCKET, SO_RCVTIMEO},  {SOL_SOCKET, SO_SNDTIMEO},   {SOL_SOCKET, SO_BINDTODEVICE},
    {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_KEEPIDLE}, {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT}};
constexpr std::size_t kCarriedCount = std::size(kCarried);
// The largest of them: a struct timeval, an interface name.
constexpr std::size_t kOptionBytes =
    std::max({sizeof(linger), sizeof(timeval), std::size_t{IFNAMSIZ}});

struct OptionValue {
  char bytes[kOptionBytes];
  socklen_t len = 0;
  bool known = false;
};

// What a fresh TCP socket of `family` says for each carried option: the
// socket we make for each connect starts with exactly these, so comparing the
// program's values with them once saves asking our own socket ten times per
// connect. (Should net.ipv4.tcp_rmem or tcp_wmem change while we run, the
// buffer sizes look set and we set them: the cost is autotuning, never a leak.)
const std::array<OptionValue, kCarriedCount>& fresh_values(int family) {
  static const auto kFor = [](int f) {
    std::array<OptionValue, kCarriedCount> out{};
    OwnedFd s(::socket(f, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!s) return out;
    for (std::size_t i = 0; i < kCarriedCount; ++i) {
      out[i].len = sizeof out[i].bytes;
      out[i].known = ::getsockopt(s.get(), kCarried[i].level, kCarried[i].name, out[i].bytes,
                                  &out[i].len) == 0;
    }
    return out;
  };
  static const auto v4 = kFor(AF_INET);
  static const auto v6 = kFor(AF_INET6);
  return family == AF_INET6 ? v6 : v4;
}

void carry_options(int from, int family, int to) {
  const auto& fresh = fresh_values(family);
  // Only values the program changed: setting SO_RCVBUF or SO_SNDBUF, even to
  // the default, locks the buffer size and ends the kernel's autotuning (a
  // 100 MiB download took 20% longer).
  for (std::size_t i = 0; i < kCarriedCount; ++i) {
    const auto& o = kCarried[i];
    char v[kOptionBytes];
    socklen_t len = sizeof v;
    if (::getsockopt(from, o.level, o.name, v, &len) != 0) continue;
    if (fresh[i].known) {
      if (fresh[i].len == len && std::memcmp(v, fresh[i].bytes, len) == 0) continue;
    } else {  // no fresh value to compare with: our own socket's, asked now
      char ours[kOptionBytes];
      socklen_t ours_len = sizeof ours;
      if (::getsockopt(to, o.level, o.name, ours, &ours_len) == 0 && ours_len == len &&
          std::memcmp(v, ours, len) == 0) {
        continue;
      }
    }
    // The kernel reports twice the buffer size that was set (socket(7)).
    if (o.level == SOL_SOCKET && (o.name == SO_RCVBUF || o.name == SO_SNDBUF) &&
        len == sizeof(int)) {
      int half;
      std::memcpy(&half, v, sizeof half);
      half /= 2;
      std::memcpy(v, &half, sizeof half);
    }
    ::setsockopt(to, o.level, o.name, v, len);
  }
}

// Whether the session can run on the program's own socket (the copy shares
// its file description) without the program seeing anything it did not do:
// only a non-blocking socket (Go's), since the session runs with O_NONBLOCK
// and would set it on a blocking one for the handshake, where another thread
// of the program sees it (F_GETFL) and a read on a dup says EAGAIN; and only
// when no proxy of the group needs the socket swapped for one of another
// family, which would swap our copy, not the program's descriptor. An AF_INET
// socket cannot reach an IPv6 proxy; an IPV6_V6ONLY one cannot reach an IPv4
// proxy (its v4-mapped address).
bool session_fits_program_socket(const Runtime& rt, int copy, int program_flags, int family,
                                 std::size_t group) {
  if (program_flags < 0 || !(program_flags & O_NONBLOCK)) return false;
  const std::size_t first = rt.group_first(group);
  const std::size_t n = rt.group_proxies(group).size();
  const bool v6only = family == AF_INET6 && sockopt_int(copy, IPPROTO_IPV6, IPV6_V6ONLY) != 0;
  if (family == AF_INET6 && !v6only) return true;
  for (std::size_t i = 0; i < n; ++i) {
    sockaddr_storage a;
    if (rt.proxy_address(first + i, family, a) == 0) continue;  // unreachable either way
    if (family == AF_INET && a.ss_family != AF_INET) return false;
    if (family == AF_INET6 &&
        (a.ss_family != AF_INET6 ||
         IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr))) {
      return false;
    }
  }
  return true;
}

// connect() through the proxy on the program's own non-blocking socket,
// through our copy of its descriptor: the session connects it to the proxy
// and runs the handshake (a non-blocking socket's status flags are never
// touched; it is left unconnected on failure), so its options, O_NONBLOCK and
// close-on-exec stay its own, and there is nothing to install: no new socket,
// no option copies, no /proc read, and no SECCOMP_IOCTL_NOTIF_ADDFD (which
// waits for the trapped thread to install the descriptor: two more context
// switches).
Answer connect_program_socket(const Runtime& rt, int copy, ino_t ino, int family, int flags,
                              const Route& route) {
  const Endpoint& target = route.target;
  SystemSessionIo io(family, flags);  // asked already: the session need not again
  SessionOutcome outcome;
  SessionOptions options;
  options.report = log_session;
  options.may_replace_socket = false;  // it would replace our copy: checked before
  options.group = route.group;
  auto reply = open_session(rt, io, copy, socks5::Command::Connect, target, outcome, options);
  if (!reply) return error(reply.error().code);
  // Before the answer: the program may ask getpeername as soon as connect returns.
  if (target.is_ip()) {
    peer_book().add(ino, target);
  }
  return value(0);
}

// A socket the program bound before connect: ours gets its address. Its port
// is the program's socket's as long as that one lives, so a second bind to it
// fails unless both allow it: then the address alone (what a client binds
// for: the interface its connection leaves by; the port only ever reached the
// proxy). A socket not bound, or not of our family, is left as it is.
Status carry_binding(int from, int family, int to) {
  sockaddr_storage local;
  socklen_t len = sizeof local;
  if (::getsockname(from, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
      local.ss_family != family) {
    return {};
  }
  auto& port = family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(local).sin6_port
                                  : reinterpret_cast<sockaddr_in&>(local).sin_port;
  if (port == 0) return {};  // not bound
  if (sockopt_int(from, SOL_SOCKET, SO_REUSEADDR) > 0) {
    const int one = 1;
    ::setsockopt(to, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (::bind(to, reinterpret_cast<sockaddr*>(&local), len) == 0) return {};
  port = 0;
  if (::bind(to, reinterpret_cast<sockaddr*>(&local), len) == 0) return {};
  return Errno{errno};
}

// connect() through the proxy: see syscall_handler.hpp. `claim` is the
// program's socket's: our socket takes its place before the claim ends.
Answer connect_through_proxy(const Runtime& rt, int listener, const seccomp_notif& req, int copy,
                             int program_fd, int program_flags, int family, const Route& route,
                             ConnectClaim& claim) {
  const Endpoint& target = route.target;
  const bool cloexec = close_on_exec(static_cast<pid_t>(req.pid), program_fd);
  // Our socket is made in the program's blocking mode (open_session sets
  // O_NONBLOCK on a blocking one for the handshake and puts it back: on ours,
  // which the program cannot see yet; a non-blocking one needs no F_SETFL
  // there, nor one here to put O_NONBLOCK back afterwards).
  const bool nonblocking = program_flags >= 0 && (program_flags & O_NONBLOCK);
  OwnedFd ours(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0),
                        IPPROTO_TCP));
  if (!ours) return error(errno);
  carry_options(copy, family, ours.get());
  if (auto st = carry_binding(copy, family, ours.get()); !st) {
    log::error("connect to {}: cannot bind our socket where the program's is bound: {}", target,
               log::errno_name(st.error().code));
    return error(st.error().code);
  }
  SystemSessionIo io;
  SessionOutcome outcome;
  SessionOptions options;
  options.report = log_session;
  options.group = route.group;
  auto reply = open_session(rt, io, ours.get(), socks5::Command::Connect, target, outcome, options);
  if (!reply) return error(reply.error().code);
  seccomp_notif_addfd addfd{};
  addfd.id = req.id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
  addfd.srcfd = static_cast<__u32>(ours.get());
  addfd.newfd = static_cast<__u32>(program_fd);
  addfd.newfd_flags = cloexec ? O_CLOEXEC : 0;
  // Before the answer: the program may ask getpeername as soon as connect returns.
  if (target.is_ip()) {
    if (const auto ino = inode_of(ours.get())) peer_book().add(*ino, target);
  }
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0) {
    // The call was interrupted or the program died: nothing was installed.
    log::debug("connect to {}: the program's call went away before the tunnel was installed",
               target);
    return already_sent();
  }
  claim.swapped();
  return value(0);
}

// Under remote DNS, a UDP socket connecting to port 53 of anything but the
// proxy is a resolver's query on its way out: its socket is connected to the
// supervisor's stub instead (dns_stub_server.hpp). nullopt: not such a case.
std::optional<Answer> connect_to_dns_stub(const Runtime& rt, int copy, int family,
                                          const Endpoint& dst) {
  constexpr std::uint16_t kDnsPort = 53;
  if (dst.port() != kDnsPort || !rt.configured() || !rt.settings().remote_dns() ||
      rt.names() == nullptr || rt.is_proxy(dst.unmapped())) {
    return std::nullopt;
  }
  const auto stub = dns_stub_address(rt);
  if (!stub) {
    log::error("refusing DNS to {}: the supervisor's DNS stub cannot start", dst);
    return error(EACCES);
  }
  const auto stub_ep =
      Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&*stub), sizeof *stub);
  sockaddr_storage ss;
  const socklen_t len = (family == AF_INET6 ? stub_ep->v4_mapped() : *stub_ep).to_sockaddr(ss);
  log::debug("DNS to {}: answered by the supervisor's stub (remote DNS)", dst);
  return result_of(::connect(copy, reinterpret_cast<sockaddr*>(&ss), len));
}

Answer on_connect(const Runtime& rt, int listener, const seccomp_notif& req) {
  const pid_t tid = static_cast<pid_t>(req.pid);
  const int fd = static_cast<int>(req.data.args[0]);
  auto copy = copy_descriptor(tid, fd);
  if (!copy) return error(copy.error().code);
  const int family = sockopt_int(copy->get(), SOL_SOCKET, SO_DOMAIN);
  if (family < 0) return error(ENOTSOCK);
  if (family != AF_INET && family != AF_INET6) return carry_on();
  auto addr = read_sockaddr(tid, req.data.args[1], req.data.args[2]);
  if (!addr) return error(addr.error().code);
  if (!still_pending(listener, req)) return already_sent();
  const int type = sockopt_int(copy->get(), SOL_SOCKET, SO_TYPE);
  const auto dst = addr->len >= sizeof(sa_family_t)
                       ? Endpoint::from_sockaddr(addr->get(), addr->len)
                       : std::nullopt;
  if (!dst) {
    // AF_UNSPEC dissolves an association; a malformed address gets the
    // kernel's own error. Neither reaches anywhere: do it with our bytes.
    return result_of(::connect(copy->get(), addr->get(), addr->len));
  }
  if (type == SOCK_DGRAM) {
    if (auto answer = connect_to_dns_stub(rt, copy->get(), family, *dst)) return *answer;
  }
  // One connect at a time on a stream socket, as in the kernel: ours run
  // here, outside its socket lock (connect_claims.hpp).
  std::optional<ConnectClaim> claim;
  if (type == SOCK_STREAM) {
    const auto ino = inode_of(copy->get());
    if (!ino) return error(errno);
    claim.emplace(connect_claims(), *ino);
    if (claim->state() == ConnectClaims::State::InFlight) return error(EALREADY);
    if (claim->state() == ConnectClaims::State::Swapped) return error(EISCONN);
  }
  const Route route = route_for(rt, *dst);
  switch (route.kind) {
    case Route::Kind::Refuse:
      return error(route.error);
    case Route::Kind::Direct:
      // Loopback, the proxy itself, a direct rule: the kernel's connect on
      // the program's own file description, with the address we checked (a
      // non-blocking socket gets EINPROGRESS, as it would have).
      return result_of(::connect(copy->get(), addr->get(), addr->len));
    case Route::Kind::Proxy:
      break;
  }
  if (type != SOCK_STREAM) {
    if (type == SOCK_DGRAM) {
      if (auto st = connect_through_udp_relay(rt, copy->get(), family, route.target); !st) {
        return error(st.error().code);
      }
      if (route.target.is_ip()) {
        if (const auto ino = inode_of(copy->get())) peer_book().add(*ino, route.target);
      }
      return value(0);
    }
    log::error("refusing connect to {}: socket type {} is not carried", *dst, type);
    return error(EACCES);
  }
  {
    sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    if (::getpeername(copy->get(), reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0) {
      return error(EISCONN);
    }
  }
  const int program_flags = ::fcntl(copy->get(), F_GETFL);
  if (session_fits_program_socket(rt, copy->get(), program_flags, family, route.group)) {
    return connect_program_socket(rt, copy->get(), claim->inode(), family, program_flags, route);
  }
  return connect_through_proxy(rt, listener, req, copy->get(), fd, program_flags, family, route,
                               *claim);
}

// A datagram we may send for the program (it goes direct, by the rules):
// sent here on the copy with the bytes we checked.
struct Datagram {
  Sockaddr name;
  bool has_name = false;
  std::vector<std::byte> data;
  std::vector<std::byte> control;
};

// Where a datagram socket's datagram goes: its own name, else the socket's peer.
// Returns an answer when the datagram must not be sent (or is malformed).
std::optional<Answer> check_datagram(const Runtime& rt, int copy, const Datagram& d,
                                     const char* call) {
  Sockaddr where = d.name;
  if (!d.has_name) {
    where.len = sizeof where.ss;
    if (::getpeername(copy, reinterpret_cast<sockaddr*>(&where.ss), &where.len) != 0) {
      return std::nullopt;  // not connected: the kernel says EDESTADDRREQ when we send
    }
  }
  const auto dst = Endpoint::from_sockaddr(where.get(), where.len);
  if (!dst) return std::nullopt;  // not an inet address: the kernel refuses it when we send
  const Route route = route_for(rt, *dst);
  if (route.kind == Route::Kind::Refuse) return error(route.error);
  if (route.kind == Route::Kind::Proxy) return refuse_udp(*dst, call);
  return std::nullopt;
}

long long send_datagram(int copy, const Datagram& d, int flags) {
  iovec iov{const_cast<std::byte*>(d.data.data()), d.data.size()};
  msghdr m{};
  if (d.has_name) {
    m.msg_name = const_cast<sockaddr_storage*>(&d.name.ss);
    m.msg_namelen = d.name.len;
  }
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (!d.control.empty()) {
    m.msg_control = const_cast<std::byte*>(d.control.data());
    m.msg_controllen = d.control.size();
  }
  return ::sendmsg(copy, &m, flags | MSG_NOSIGNAL);
}

// A struct msghdr of the program's, its name, payload and control read whole.
Result<Datagram> read_msghdr(pid_t tid, std::uint64_t address) {
  msghdr m;
  if (auto st = read_object(tid, address, m); !st) return st.error();
  Datagram d;
  if (m.msg_name != nullptr && m.msg_namelen > 0) {
    auto name = read_sockaddr(tid, reinterpret_cast<std::uint64_t>(m.msg_name), m.msg_namelen);
    if (!name) return name.error();
    d.name = *name;
    d.has_name = true;
  }
  if (m.msg_iovlen > kMaxIov) return Errno{EMSGSIZE};
  std::vector<iovec> iov(m.msg_iovlen);
  if (auto st = read_memory(tid, reinterpret_cast<std::uint64_t>(m.msg_iov),
                            std::as_writable_bytes(std::span(iov)));
      !st) {
    return st.error();
  }
  std::size_t total = 0;
  for (const iovec& v : iov) {
    if (v.iov_len > kMaxDatagram || total + v.iov_len > kMaxDatagram) return Errno{EMSGSIZE};
    total += v.iov_len;
  }
  d.data.resize(total);
  std::size_t at = 0;
  for (const iovec& v : iov) {
    if (auto st = read_memory(tid, reinterpret_cast<std::uint64_t>(v.iov_base),
                              std::span(d.data).subspan(at, v.iov_len));
        !st) {
      return st.error();
    }
    at += v.iov_len;
  }
  if (m.msg_control != nullptr && m.msg_controllen > 0) {
    if (m.msg_controllen > kMaxControl) return Errno{ENOBUFS};
    d.control.resize(m.msg_controllen);
    if (auto st = read_memory(tid, reinterpret_cast<std::uint64_t>(m.msg_control), d.control);
        !st) {
      return st.error();
    }
  }
  return d;
}

// Common to the three send calls: the socket's kind decides.
enum class SendPath { Continue, Fastopen, Datagram };
SendPath send_path(int copy, unsigned long long flags) {
  const int family = sockopt_int(copy, SOL_SOCKET, SO_DOMAIN);
  if (family != AF_INET && family != AF_INET6) return SendPath::Continue;
  if (sockopt_int(copy, SOL_SOCKET, SO_TYPE) == SOCK_STREAM) {
    // A stream socket ignores the address once connected, and without
    // MSG_FASTOPEN never connects from a send: the registers decide, safe.
    return (flags & MSG_FASTOPEN) ? SendPath::Fastopen : SendPath::Continue;
  }
  return SendPath::Datagram;
}

Answer refuse_fastopen() {
  log::error("refusing a TCP Fast Open send (MSG_FASTOPEN): it would connect around the proxy");
  return error(EOPNOTSUPP);
}

// The answer for a send that is not a datagram for the supervisor to carry
// (TCP data: the kernel runs it; TCP Fast Open: refused), or nothing.
std::optional<Answer> unless_datagram(int fd, int flags) {
  switch (send_path(fd, static_cast<unsigned>(flags))) {
    case SendPath::Continue:
      return carry_on();
    case SendPath::Fastopen:
      return refuse_fastopen();
    case SendPath::Datagram:
      break;
  }
  return std::nullopt;
}

// The course sendto and sendmsg share: the program's descriptor, the
// socket's kind (TCP data runs in the kernel), then the datagram `read` takes
// from the program's memory, checked and sent here with those bytes.
template <class ReadDatagram>
Answer send_for_program(const Runtime& rt, int listener, const seccomp_notif& req, int flags,
                        const char* call, ReadDatagram read) {
  const pid_t tid = static_cast<pid_t>(req.pid);
  auto copy = copy_descriptor(tid, static_cast<int>(req.data.args[0]));
  if (!copy) return error(copy.error().code);
  if (auto other = unless_datagram(copy->get(), flags)) return *other;
  Result<Datagram> d = read(tid);
  if (!d) return error(d.error().code);
  if (!still_pending(listener, req)) return already_sent();
  if (auto refused = check_datagram(rt, copy->get(), *d, call)) return *refused;
  return result_of(send_datagram(copy->get(), *d, flags));
}

// sendto(fd, buf, len, flags, addr, addrlen)
Answer on_sendto(const Runtime& rt, int listener, const seccomp_notif& req) {
  const auto& a = req.data.args;
  return send_for_program(rt, listener, req, static_cast<int>(a[3]), "sendto",
                          [&a](pid_t tid) -> Result<Datagram> {
                            Datagram d;
                            auto name = read_sockaddr(tid, a[4], a[5]);
                            if (!name) return name.error();
                            d.name = *name;
                            d.has_name = true;
                            if (a[2] > kMaxDatagram) return Errno{EMSGSIZE};
                            d.data.resize(a[2]);
                            if (auto st = read_memory(tid, a[1], d.data); !st) return st.error();
                            return d;
                          });
}

// sendmsg(fd, msg, flags)
Answer on_sendmsg(const Runtime& rt, int listener, const seccomp_notif& req) {
  const auto& a = req.data.args;
  return send_for_program(rt, listener, req, static_cast<int>(a[2]), "sendmsg",
                          [&a](pid_t tid) { return read_msghdr(tid, a[1]); });
}

// sendmmsg(fd, msgvec, vlen, flags): each message as sendmsg, msg_len written
// back; the count sent, or the first message's error.
Answer on_sendmmsg(const Runtime& rt, int listener, const seccomp_notif& req) {
  const pid_t tid = static_cast<pid_t>(req.pid);
  const auto& a = req.data.args;
  auto copy = copy_descriptor(tid, static_cast<int>(a[0]));
  if (!copy) return error(copy.error().code);
  const int flags = static_cast<int>(a[3]);
  if (auto other = unless_datagram(copy->get(), flags)) return *other;
  const std::size_t vlen = std::min<std::uint64_t>(a[2], kMaxMmsg);
  long long sent = 0;
  for (std::size_t i = 0; i < vlen; ++i) {
    const std::uint64_t at = a[1] + i * sizeof(mmsghdr);
    auto d = read_msghdr(tid, at);
    Answer failed{Answer::Kind::Value};
    bool stop = false;
    if (!d) {
      failed = error(d.error().code);
      stop = true;
    } else if (!still_pending(listener, req)) {
      return already_sent();
    } else if (auto refused = check_datagram(rt, copy->get(), *d, "sendmmsg")) {
      failed = *refused;
      stop = true;
    } else {
      const long long n = send_datagram(copy->get(), *d, flags);
      if (n < 0) {
        failed = error(errno);
        stop = true;
      } else {
        const unsigned len = static_cast<unsigned>(n);
        (void)write_memory(tid, at + offsetof(mmsghdr, msg_len), std::as_bytes(std::span(&len, 1)));
        ++sent;
      }
    }
    if (stop) return sent > 0 ? value(sent) : failed;
  }
  return value(sent);
}

// getpeername(fd, addr, addrlen): for a tunnel of ours, the destination the
// program asked for (in its socket's family: v4-mapped on an AF_INET6 one),
// truncated to *addrlen as the kernel does, *addrlen set to the full length.
// Anything else: the kernel's answer (it only writes the program's memory).
Answer on_getpeername(const Runtime&, int listener, const seccomp_notif& req) {
  const pid_t tid = static_cast<pid_t>(req.pid);
  const auto& a = req.data.args;
  auto copy = copy_descriptor(tid, static_cast<int>(a[0]));
  if (!copy) return carry_on();
  const auto ino = inode_of(copy->get());
  const auto dst = ino ? peer_book().find(*ino) : std::nullopt;
  if (!dst) return carry_on();
  sockaddr_storage real;
  socklen_t real_len = sizeof real;
  if (::getpeername(copy->get(), reinterpret_cast<sockaddr*>(&real), &real_len) != 0) {
    return error(errno);  // no longer connected: ENOTCONN, as the kernel says
  }
  const Endpoint shown = real.ss_family == AF_INET6 ? dst->v4_mapped() : dst->unmapped();
  sockaddr_storage ss;
  const socklen_t full = shown.to_sockaddr(ss);
  if (full == 0 || ss.ss_family != real.ss_family) return carry_on();
  socklen_t room = 0;
  if (auto st = read_object(tid, a[2], room); !st) return error(EFAULT);
  if (static_cast<int>(room) < 0) return error(EINVAL);
  const socklen_t n = std::min(room, full);
  // The thread is still the one that asked (its id was not reused): only then
  // is its memory the program's.
  if (!still_pending(listener, req)) return already_sent();
  // The address, then its length: one call.
  if (auto st = write_memory(tid, a[1], std::as_bytes(std::span(&ss, 1)).first(n), a[2],
                             std::as_bytes(std::span(&full, 1)));
      !st) {
    return error(EFAULT);
  }
  return value(0);
}

// The calls the filter sends us (supervisor/bpf_filter.cpp), each to its handler.
struct Handler {
  long nr;
  Answer (*handle)(const Runtime&, int, const seccomp_notif&);
};
constexpr Handler kHandlers[] = {
    {SYS_connect, on_connect},   {SYS_sendto, on_sendto},           {SYS_sendmsg, on_sendmsg},
    {SYS_sendmmsg, on_sendmmsg}, {SYS_getpeername, on_getpeername},
};

}  // namespace

void handle_notification(const Runtime& rt, int listener, const seccomp_notif& req) noexcept {
  Answer a = error(ENOSYS);
  try {
    if (req.data.arch == AUDIT_ARCH_X86_64) {
      for (const Handler& h : kHandlers) {
        if (h.nr == req.data.nr) a = h.handle(rt, listener, req);
      }
    }
  } catch (...) {
    a = error(ENOMEM);  // vectors only; never let the call through
  }
  respond(listener, req, a);
}

}  // namespace socksify::supervisor
