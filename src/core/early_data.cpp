#include "core/early_data.hpp"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <new>

#include "core/log.hpp"
#include "core/real.hpp"
#include "core/runtime.hpp"
#include "core/session_io.hpp"
#include "core/socket_stream.hpp"

namespace socksify {
namespace {

// One proxy only: past the handshake's write there is no telling whether the
// proxy answers, so a pool's failover (which moves on from a proxy that says
// nothing) and a chain keep the usual session.
bool applies(const Runtime& rt) {
  if (!rt.configured() || !rt.settings().early_data) return false;
  if (rt.settings().pipeline == Pipeline::Off) return false;
  const auto proxies = rt.proxies();
  if (proxies.size() != 1 || proxies[0].spec.protocol != ProxyProtocol::Socks5) return false;
  return rt.pipeline_memory(0) != PipelineMemory::Refuses;
}

// The outcome once the replies are whole: remembered for the pool, logged as
// a session's line would be (a failure at Error: the program sees it).
void settle(EarlyTunnel& t) {
  const Runtime& rt = Runtime::get();
  const auto proxies = rt.proxies();
  if (t.replies.state() == socks5::EarlyReplies::State::Done) {
    if (t.proxy < proxies.size() && rt.settings().pipeline == Pipeline::Auto) {
      rt.remember_pipeline(t.proxy, PipelineMemory::Takes);
    }
    if (t.proxy < proxies.size()) {
      log::debug("connect to {} via {}: tunnel open (early data)", t.dst,
                 proxies[t.proxy].spec.display());
    }
    return;
  }
  const socks5::Failure& f = t.replies.failure();
  t.error = f.error.code != 0 ? f.error.code : ECONNRESET;
  if (t.proxy < proxies.size()) {
    log::error("connect to {} via {} failed: {} ({}); early data: seen at the first read or write",
               t.dst, proxies[t.proxy].spec.display(), f.what, log::errno_name(t.error));
  }
}

}  // namespace

Result<EarlyTunnel*> send_early(const Runtime& rt, SessionIo& io, int fd, const Endpoint& dst,
                                EarlyTunnel* reuse) {
  if (!applies(rt)) return Errno{EAGAIN};
  const ProxySpec& spec = rt.proxies()[0].spec;
  std::array<std::byte, socks5::kMaxPipelined> out{};
  auto len =
      socks5::encode_pipelined(out, {spec.user, spec.password}, socks5::Command::Connect, dst);
  if (!len) return Errno{EAGAIN};  // the session says why, in its own words
  const int family = io.family(fd);
  sockaddr_storage addr;
  const socklen_t addr_len = rt.proxy_address(0, family, addr);
  // A worker cannot swap an AF_INET socket for an IPv6 proxy (prepare_socket did, if it could).
  if (addr_len == 0 || addr.ss_family != family) return Errno{EAGAIN};
  const Deadline deadline = Clock::now() + rt.settings().connect_timeout;
  if (auto c = io.connect(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len, deadline); !c) {
    // The one proxy cannot be reached: that is the outcome (a session would
    // wait for the same connect again).
    io.disconnect(fd);
    const int e = c.error().code != EAGAIN ? c.error().code : ECONNREFUSED;
    log::error("connect to {} via {} failed: proxy unreachable ({})", dst, spec.display(),
               log::errno_name(e));
    return Errno{e};
  }
  EarlyTunnel* t = reuse;
  if (t != nullptr) {
    t->reset(!spec.user.empty(), dst, 0);
  } else {
    t = new (std::nothrow) EarlyTunnel(!spec.user.empty(), dst, 0);
  }
  if (t == nullptr || !socks5::write_all(io.stream(fd, deadline), std::span(out).first(*len))) {
    // The session starts over on this socket, which it finds unconnected.
    if (t != reuse) delete t;
    io.disconnect(fd);
    return Errno{EAGAIN};
  }
  return t;
}

namespace {

// take_replies with t.mu held.
int take_replies_locked(int fd, EarlyTunnel& t, bool dontwait) noexcept {
  if (!t.due.load(std::memory_order_acquire)) {
    // Another thread got here first: its outcome stands (a failure was
    // reported to it; the socket is shut down, the kernel answers from now).
    return 0;
  }
  const int saved = errno;
  using State = socks5::EarlyReplies::State;
  std::array<std::byte, socks5::kMaxReply> buf;
  while (t.replies.state() == State::Reading) {
    const std::size_t want = t.replies.wanted();
    const ssize_t n = REAL(recv)(fd, buf.data(), want, dontwait ? MSG_DONTWAIT : 0);
    if (n < 0) {
      const int e = errno;
      if (e == EINTR || e == EAGAIN || e == EWOULDBLOCK) {
        errno = e;
        return -1;
      }
      // The socket failed under the replies (a reset): that is the outcome.
      t.replies.closed();
      break;
    }
    if (n == 0) {
      t.replies.closed();
      break;
    }
    t.replies.feed(std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)));
  }
  settle(t);
  t.due.store(false, std::memory_order_release);
  if (t.error == 0) {
    errno = saved;
    return 0;
  }
  ::shutdown(fd, SHUT_RDWR);
  errno = t.error;
  return -1;
}

}  // namespace

int take_replies(int fd, EarlyTunnel& t, bool dontwait) noexcept {
  std::lock_guard lock(t.mu);
  return take_replies_locked(fd, t, dontwait);
}

int early_write_check(int fd, EarlyTunnel& t) noexcept {
  // Another thread reading the replies (perhaps blocked on them): the write
  // goes out behind the request, as it would have a moment earlier.
  std::unique_lock lock(t.mu, std::try_to_lock);
  if (!lock.owns_lock()) return 0;
  const int saved = errno;
  // Whatever has arrived is read now, so a refusal already here fails this
  // write; replies still on their way let the bytes go out behind the request.
  if (take_replies_locked(fd, t, true) == 0) return 0;
  const int e = errno;
  if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) {
    errno = saved;
    return 0;
  }
  return -1;
}

}  // namespace socksify
