// Event-loop blocking per connection: how long a non-blocking connect() keeps
// the calling thread (an event loop) inside the call, and how long until the
// connection is ready (the socket reported writable by poll).
//
//   socksify_bench_event_loop_block plain  TARGET COUNT MAX_SECONDS
//       O_NONBLOCK socket, connect() to TARGET, poll(POLLOUT), SO_ERROR: what an
//       event loop does. Run it under LD_PRELOAD=libsocksify.so (or proxychains4,
//       or dante's socksify): the preloaded library does the SOCKS5 handshake.
//   socksify_bench_event_loop_block socks5 PROXY TARGET COUNT MAX_SECONDS
//       the baseline: the same O_NONBLOCK socket, but "connect" is this binary's
//       own SOCKS5 client that runs the whole handshake inside the call
//       (connect to the proxy, wait for it, greeting, method choice, CONNECT,
//       reply; each read waits in poll), which is what proxychains and tsocks
//       do inside connect(). No preload.
//
// Per connection: t0 before the call, t1 when it returns (blocked = t1 - t0),
// t2 when poll reports POLLOUT (ready = t2 - t0; for the baseline t2 = t1 plus
// one poll that returns at once). Then a check that the tunnel works: send
// "ping", wait for POLLIN, read the echo, read the end of stream (the echo
// server closes first, see echo_server.cpp), close.
//
// TARGET and PROXY are IPv4 "a.b.c.d:port". Prints one summary line
//   connects=N seconds=S blocked_median_us=.. blocked_p99_us=.. ready_median_us=.. ready_p99_us=..
// and two lines of raw samples (microseconds, in connection order):
//   blocked_us=a,b,c,...
//   ready_us=a,b,c,...
// Stops after COUNT connections or MAX_SECONDS; any failure is an error (exit 1).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_socks5.hpp"

namespace {

using bench::read_exact;
using bench::wait_for;
using bench::write_all;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what, long n) {
  std::fprintf(stderr, "event_loop_block: connection %ld: %s: %s\n", n, what, std::strerror(errno));
  std::exit(1);
}

// What a blocking-in-connect SOCKS library does with a non-blocking socket:
// the proxy connection and the whole RFC 1928 handshake (no authentication,
// CONNECT to an IPv4 address) before returning. 0 or -1 with errno.
int blocking_socks5_connect(int fd, const sockaddr_in& proxy, const sockaddr_in& target) {
  if (connect(fd, reinterpret_cast<const sockaddr*>(&proxy), sizeof proxy) != 0) {
    if (errno != EINPROGRESS) return -1;
    if (!wait_for(fd, POLLOUT)) return -1;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -1;
    if (err != 0) {
      errno = err;
      return -1;
    }
  }
  return bench::socks5_request(fd, bench::kConnect, target) == nullptr ? 0 : -1;
}

double us(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void print_samples(const char* name, const std::vector<double>& v) {
  std::printf("%s=", name);
  for (std::size_t i = 0; i < v.size(); ++i) std::printf(i ? ",%.1f" : "%.1f", v[i]);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const bench::ModeArgs args = bench::parse_mode_args(argc, argv, "event_loop_block", "COUNT");
  const bool self = args.self;
  const sockaddr_in& proxy = args.proxy;
  const sockaddr_in& target = args.target;
  const long count = args.count;
  const auto max = std::chrono::duration<double>(args.max_seconds);

  std::vector<double> blocked, ready;
  blocked.reserve(static_cast<std::size_t>(count));
  ready.reserve(static_cast<std::size_t>(count));
  const unsigned char ping[4] = {'p', 'i', 'n', 'g'};
  const auto start = Clock::now();
  long n = 0;
  for (; n < count; ++n) {
    if (Clock::now() - start > max) break;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket", n);
    const auto t0 = Clock::now();
    int rc;
    if (self) {
      rc = blocking_socks5_connect(fd, proxy, target);
    } else {
      rc = connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof target);
    }
    const int err = errno;
    const auto t1 = Clock::now();
    if (rc != 0 && err != EINPROGRESS) {
      errno = err;
      die("connect", n);
    }
    if (!wait_for(fd, POLLOUT)) die("poll for writable", n);
    const auto t2 = Clock::now();
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) die("SO_ERROR", n);
    if (so_error != 0) {
      errno = so_error;
      die("connection failed (SO_ERROR)", n);
    }
    blocked.push_back(us(t0, t1));
    ready.push_back(us(t0, t2));

    unsigned char echo[sizeof ping];
    if (!write_all(fd, ping, sizeof ping)) die("send ping", n);
    if (!read_exact(fd, echo, sizeof echo)) die("read echo", n);
    if (std::memcmp(echo, ping, sizeof ping) != 0) {
      errno = EIO;
      die("echo differs", n);
    }
    unsigned char eof;
    for (;;) {
      const ssize_t r = read(fd, &eof, 1);
      if (r == 0) break;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN && wait_for(fd, POLLIN)) continue;
      if (r > 0) errno = EPROTO;
      die("expected end of stream after the echo", n);
    }
    close(fd);
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "connects=%ld seconds=%.6f blocked_median_us=%.1f blocked_p99_us=%.1f "
      "ready_median_us=%.1f ready_p99_us=%.1f\n",
      n, s, quantile(blocked, 0.5), quantile(blocked, 0.99), quantile(ready, 0.5),
      quantile(ready, 0.99));
  print_samples("blocked_us", blocked);
  print_samples("ready_us", ready);
  return 0;
}
