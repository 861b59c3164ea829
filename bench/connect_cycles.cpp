// Connect-cycle benchmark: connect, echo a few bytes, close, as fast as possible,
// sequentially, against an echo server reached through a SOCKS5 proxy.
//
//   socksify_bench_connect_cycles plain  TARGET CYCLES MAX_SECONDS
//       plain connect() to TARGET: run it under LD_PRELOAD=libsocksify.so (or
//       proxychains4) and the preloaded library does the SOCKS5 handshake.
//   socksify_bench_connect_cycles socks5 PROXY TARGET CYCLES MAX_SECONDS
//       the same binary speaks SOCKS5 itself (RFC 1928 §3 greeting and method
//       choice, §4 CONNECT request, §6 reply), no preload: the baseline.
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

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const char* what, long cycle) {
  std::fprintf(stderr, "connect_cycles: cycle %ld: %s: %s\n", cycle, what, std::strerror(errno));
  std::exit(1);
}

sockaddr_in parse(const std::string& s) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || inet_pton(AF_INET, s.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    std::fprintf(stderr, "connect_cycles: bad address %s (want a.b.c.d:port)\n", s.c_str());
    std::exit(2);
  }
  sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(s.c_str() + colon + 1)));
  return sa;
}

// Reads exactly n bytes (blocking socket); false on EOF or error.
bool read_exact(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    const ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_all(int fd, const void* buf, std::size_t n) {
  auto* p = static_cast<const unsigned char*>(buf);
  while (n > 0) {
    const ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// The minimal SOCKS5 client: no authentication, CONNECT to an IPv4 address.
void socks5_connect(int fd, const sockaddr_in& target, long cycle) {
  const unsigned char greeting[] = {0x05, 0x01, 0x00};  // VER, NMETHODS, NO AUTH
  unsigned char choice[2];
  if (!write_all(fd, greeting, sizeof greeting)) die("send greeting", cycle);
  if (!read_exact(fd, choice, sizeof choice)) die("read method choice", cycle);
  if (choice[0] != 0x05 || choice[1] != 0x00) {
    errno = EPROTO;
    die("proxy refused method NO AUTH", cycle);
  }
  unsigned char req[10] = {0x05, 0x01, 0x00, 0x01};  // VER, CONNECT, RSV, ATYP IPv4
  std::memcpy(req + 4, &target.sin_addr, 4);
  std::memcpy(req + 8, &target.sin_port, 2);
  if (!write_all(fd, req, sizeof req)) die("send request", cycle);
  unsigned char rep[4];
  if (!read_exact(fd, rep, sizeof rep)) die("read reply", cycle);
  if (rep[0] != 0x05 || rep[1] != 0x00) {
    errno = ECONNREFUSED;
    die("proxy reply not 'succeeded'", cycle);
  }
  // RFC 1928 §6: BND.ADDR by ATYP, then BND.PORT.
  std::size_t rest = 0;
  unsigned char len = 0;
  switch (rep[3]) {
    case 0x01: rest = 4 + 2; break;
    case 0x04: rest = 16 + 2; break;
    case 0x03:
      if (!read_exact(fd, &len, 1)) die("read reply", cycle);
      rest = len + 2u;
      break;
    default: errno = EPROTO; die("reply with unknown ATYP", cycle);
  }
  unsigned char skip[258];
  if (!read_exact(fd, skip, rest)) die("read reply address", cycle);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool self = mode == "socks5";
  if (!((mode == "plain" && argc == 5) || (self && argc == 6))) {
    std::fprintf(stderr,
                 "usage: %s plain TARGET CYCLES MAX_SECONDS\n"
                 "       %s socks5 PROXY TARGET CYCLES MAX_SECONDS\n",
                 argv[0], argv[0]);
    return 2;
  }
  int a = 2;
  const sockaddr_in proxy = self ? parse(argv[a++]) : sockaddr_in{};
  const sockaddr_in target = parse(argv[a++]);
  const long cycles = std::atol(argv[a++]);
  const auto max = std::chrono::duration<double>(std::atof(argv[a++]));
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
    if (self) socks5_connect(fd, target, done);
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
  const double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  std::printf("cycles=%ld seconds=%.6f rate=%.1f cpu_us_per_cycle=%.2f\n", done, s, done / s,
              done > 0 ? cpu * 1e6 / done : 0.0);
  return 0;
}
