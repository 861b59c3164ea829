#include "core/dns_upstream.hpp"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstring>
#include <new>
#include <vector>

#include "core/dns_injector.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "dns/dns_forward.hpp"
#include "dns/dns_message.hpp"

namespace socksify {
namespace {

std::atomic<int> g_running{0};

struct Job {
  std::vector<std::byte> query;
  DnsReplyTo to;
  ~Job() {
    if (to.stream.load(std::memory_order_relaxed) >= 0) close_own_fd(to.stream);
  }
};

// Reads exactly out.size() bytes by `deadline`; false on EOF, error or time.
bool read_exact(int fd, std::span<std::byte> out, std::chrono::steady_clock::time_point deadline) {
  std::size_t got = 0;
  while (got < out.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int r = REAL(poll)(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    const ssize_t n = REAL(recv)(fd, out.data() + got, out.size() - got, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

bool write_all(int fd, std::span<const std::byte> data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = REAL(send)(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// The upstream's response to the query, empty on failure (said in one line).
std::vector<std::byte> exchange(const std::vector<std::byte>& query) {
  const Runtime& rt = Runtime::get();
  const Endpoint& upstream = rt.settings().dns_upstream;
  std::vector<std::byte> response;
  std::atomic<int> fd{-1};
  adopt_own_fd(REAL(socket)(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP), fd);
  if (fd.load() < 0) return response;
  struct Closer {
    std::atomic<int>& fd;
    ~Closer() { close_own_fd(fd); }
  } closer{fd};
  auto reply = open_session(fd.load(), socks5::Command::Connect, upstream);
  own_fds().renew(fd);          // open_session may have swapped in an IPv6 socket
  if (!reply) return response;  // open_session logged it
  const auto deadline = std::chrono::steady_clock::now() + rt.settings().connect_timeout;
  std::byte prefix[2];
  if (!dns::put_tcp_length(prefix, query.size()) || !write_all(fd.load(), prefix) ||
      !write_all(fd.load(), query)) {
    log::warn("DNS upstream {}: cannot send the query ({})", upstream, log::errno_name(errno));
    return response;
  }
  if (!read_exact(fd.load(), prefix, deadline)) {
    log::warn("DNS upstream {}: no answer within connect_timeout", upstream);
    return response;
  }
  const std::size_t size =
      (static_cast<std::size_t>(prefix[0]) << 8) | static_cast<std::size_t>(prefix[1]);
  response.resize(size);
  if (!read_exact(fd.load(), response, deadline)) {
    log::warn("DNS upstream {}: the answer was cut short", upstream);
    response.clear();
  }
  return response;
}

// Sends a response (already within the client's limit) where the job says.
void deliver(Job& job, std::span<const std::byte> response) {
  if (response.empty()) return;
  const int stream = job.to.stream.load(std::memory_order_acquire);
  if (stream < 0) {
    (void)dns_inject(response, job.to.addr, job.to.addr_len, job.to.v6only);
    return;
  }
  std::byte prefix[2];
  if (!dns::put_tcp_length(prefix, response.size())) return;
  iovec iov[2] = {{prefix, 2}, {const_cast<std::byte*>(response.data()), response.size()}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  (void)REAL(sendmsg)(stream, &m, MSG_NOSIGNAL);
}

void run(Job& job) {
  ReentryGuard guard;
  const dns::Query q = dns::parse_query(job.query);
  const bool tcp = job.to.stream.load(std::memory_order_relaxed) >= 0;
  const std::size_t limit = tcp ? dns::kMaxMessage : dns::udp_response_limit(q);
  std::vector<std::byte> out(limit);
  const std::vector<std::byte> upstream = exchange(job.query);
  std::size_t n = 0;
  if (!upstream.empty()) n = dns::relay_response(q, upstream, out, limit);
  if (n == 0) n = dns::build_response(out, limit, q, dns::Rcode::ServFail);
  deliver(job, std::span(out.data(), n));
}

void* thread_main(void* arg) {
  Job* job = static_cast<Job*>(arg);
  try {
    run(*job);
  } catch (...) {  // std::bad_alloc: the program's resolver times out and retries
  }
  delete job;
  g_running.fetch_sub(1, std::memory_order_relaxed);
  return nullptr;
}

}  // namespace

std::size_t UpstreamForwarder::forward(const dns::Query& q, std::span<const std::byte> query,
                                       std::span<std::byte> out) noexcept {
  ReentryGuard guard;
  try {
    const std::vector<std::byte> upstream =
        exchange(std::vector<std::byte>(query.begin(), query.end()));
    if (upstream.empty()) return 0;
    return dns::relay_response(q, upstream, out, out.size());
  } catch (...) {  // std::bad_alloc
    return 0;
  }
}

dns::Forwarder* dns_upstream_forwarder() noexcept {
  static UpstreamForwarder forwarder;  // stateless
  if (Runtime::get().settings().dns_upstream.kind() == Endpoint::Kind::None) return nullptr;
  return &forwarder;
}

bool dns_forward(std::span<const std::byte> query, const sockaddr_storage* udp_to,
                 socklen_t udp_to_len, bool v6only, int stream_fd) noexcept {
  if (g_running.fetch_add(1, std::memory_order_relaxed) >= kMaxForwards) {
    g_running.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  Job* job = nullptr;
  try {
    job = new Job;
    job->query.assign(query.begin(), query.end());
  } catch (...) {
    delete job;
    g_running.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  if (udp_to != nullptr) {
    job->to.addr = *udp_to;
    job->to.addr_len = udp_to_len;
    job->to.v6only = v6only;
  } else if (own_fds().adopt_dup(stream_fd, job->to.stream) < 0) {
    delete job;
    g_running.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  // The program's signal handlers must not run on our thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  const int rc = pthread_create(&t, &attr, thread_main, job);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    delete job;
    g_running.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

}  // namespace socksify
