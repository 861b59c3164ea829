// Connect-cycle benchmark: connect, echo a few bytes, close, as fast as possible,
// sequentially, against an echo server reached through a SOCKS5 proxy.
//
//   socksify_bench_connect_cycles plain  TARGET CYCLES MAX_SECONDS
//       plain connect() to TARGET: run it under LD_PRELOAD=libsocksify.so (or
//       proxychains4) and the preloaded library does the SOCKS5 handshake.
//   socksify_bench_connect_cycles socks5 PROXY TARGET CYCLES MAX_SECONDS
//       the same binary speaks SOCKS5 itself (RFC 1928 §3 greeting and method
//       choice, §4 CONNECT request, §6 reply), no preload: the baseline.
//   socksify_bench_connect_cycles socks4|http PROXY TARGET CYCLES MAX_SECONDS
//       the same with SOCKS4 CONNECT or HTTP CONNECT (connect_cycles_upstreams.py).
//
// A cycle: socket, connect (plus the SOCKS5 handshake), send "ping", read the
// echo, read the end of stream (the echo server closes first, see
// echo_server.cpp for why), close.
//
// TARGET and PROXY are IPv4 "a.b.c.d:port". Prints one line:
//   cycles=N seconds=S rate=R cpu_us_per_cycle=C
// where C is this process's own user+system CPU time per cycle (the proxy's and
// the server's are not in it): what the SOCKS5 client side costs, whoever runs it.
// Stops after CYCLES cycles or MAX_SECONDS, whichever comes first; any failed
// cycle is an error (exit 1), so a rate is only ever printed for good cycles.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_socks5.hpp"

namespace {

using bench::read_exact;
using bench::wait_for;
using bench::write_all;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what, long cycle) {
  std::fprintf(stderr, "connect_cycles: cycle %ld: %s: %s\n", cycle, what, std::strerror(errno));
  std::exit(1);
}

// The baseline's own SOCKS5 client: CONNECT to an IPv4 target, no authentication.
void socks5_connect(int fd, const sockaddr_in& target, long cycle) {
  if (const char* step = bench::socks5_request(fd, bench::kConnect, target)) die(step, cycle);
}

// The baselines for the other upstreams (issue 13): a client speaking SOCKS4
// (CONNECT, empty USERID) or HTTP CONNECT itself, as a program with its own
// proxy support does, each reading the reply as such a client would.
void socks4_connect(int fd, const sockaddr_in& target, long cycle) {
  unsigned char req[9] = {0x04, 0x01};  // VN, CD CONNECT, DSTPORT, DSTIP, USERID "" + NUL
  std::memcpy(req + 2, &target.sin_port, 2);
  std::memcpy(req + 4, &target.sin_addr, 4);
  if (!write_all(fd, req, sizeof req)) die("send SOCKS4 request", cycle);
  unsigned char rep[8];
  if (!read_exact(fd, rep, sizeof rep)) die("read SOCKS4 reply", cycle);
  if (rep[0] != 0x00 || rep[1] != 90) {
    errno = ECONNREFUSED;
    die("SOCKS4 reply not 'granted'", cycle);
  }
}

void http_connect(int fd, const sockaddr_in& target, long cycle) {
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &target.sin_addr, host, sizeof host);
  char req[160];
  const int n = std::snprintf(req, sizeof req, "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n",
                              host, ntohs(target.sin_port), host, ntohs(target.sin_port));
  if (!write_all(fd, req, static_cast<std::size_t>(n))) die("send CONNECT", cycle);
  // The target sends nothing before our ping, so whatever arrives is the
  // proxy's reply: read until the blank line, in as few reads as it comes in.
  char rep[4096];
  std::size_t got = 0;
  while (got < 4 || std::memcmp(rep + got - 4, "\r\n\r\n", 4) != 0) {
    if (got == sizeof rep) {
      errno = EMSGSIZE;
      die("CONNECT reply too long", cycle);
    }
    const ssize_t r = read(fd, rep + got, sizeof rep - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("read CONNECT reply", cycle);
    got += static_cast<std::size_t>(r);
  }
  if (got < 12 || std::memcmp(rep, "HTTP/1.", 7) != 0 || std::memcmp(rep + 8, " 200", 4) != 0) {
    errno = ECONNREFUSED;
    die("CONNECT reply not 200", cycle);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::ModeArgs args = bench::parse_mode_args(argc, argv, "connect_cycles", "CYCLES");
  const bool self = args.self;
  const sockaddr_in& proxy = args.proxy;
  const sockaddr_in& target = args.target;
  const long cycles = args.count;
  const auto max = std::chrono::duration<double>(args.max_seconds);
  const sockaddr_in& first_hop = self ? proxy : target;

  const unsigned char ping[4] = {'p', 'i', 'n', 'g'};
  const auto start = Clock::now();
  long done = 0;
  for (; done < cycles; ++done) {
    if ((done & 63) == 0 && Clock::now() - start > max) break;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket", done);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&first_hop), sizeof first_hop) != 0) {
      die("connect", done);
    }
    if (self && args.protocol == "socks4") {
      socks4_connect(fd, target, done);
    } else if (self && args.protocol == "http") {
      http_connect(fd, target, done);
    } else if (self) {
      socks5_connect(fd, target, done);
    }
    unsigned char echo[sizeof ping];
    if (!write_all(fd, ping, sizeof ping)) die("send ping", done);
    if (!read_exact(fd, echo, sizeof echo)) die("read echo", done);
    if (std::memcmp(echo, ping, sizeof ping) != 0) {
      errno = EIO;
      die("echo differs", done);
    }
    // The server closes after the echo; wait for it so TIME_WAIT stays on its side.
    unsigned char eof;
    ssize_t r;
    while ((r = read(fd, &eof, 1)) < 0 && errno == EINTR) {
    }
    if (r != 0) {
      if (r > 0) errno = EPROTO;
      die("expected end of stream after the echo", done);
    }
    close(fd);
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu =
      ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  std::printf("cycles=%ld seconds=%.6f rate=%.1f cpu_us_per_cycle=%.2f\n", done, s, done / s,
              done > 0 ? cpu * 1e6 / done : 0.0);
  return 0;
}
