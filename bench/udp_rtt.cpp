// UDP request/response round trips through a SOCKS5 UDP relay (RFC 1928 §7).
//
//   socksify_bench_udp_rtt echo HOST PORT                     UDP echo server (until killed)
//   socksify_bench_udp_rtt plain TARGET COUNT MAX_S [SIZE]    sendto/recvfrom to TARGET
//                                                             (run under LD_PRELOAD=socksify)
//   socksify_bench_udp_rtt socks5 PROXY TARGET COUNT MAX_S [SIZE]
//                                                             its own UDP ASSOCIATE, header
//                                                             built by hand (the baseline)
// HOST/TARGET/PROXY are IPv4 "a.b.c.d" / "a.b.c.d:port". Prints
// "round_trips=N seconds=S rate=R cpu_us_per_rtt=C". Every reply is checked.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_socks5.hpp"

namespace {

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int echo(const char* host, const char* port) {
  const sockaddr_in sa = bench::parse_ipv4(std::string(host) + ":" + port, "udp_rtt");
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) die("echo bind");
  std::vector<char> buf(65536);
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n =
        recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n >= 0) sendto(fd, buf.data(), n, 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}

// Opens a UDP association for udp_fd; returns the control socket, fills relay.
int associate(const sockaddr_in& proxy, int udp_fd, sockaddr_in& relay) {
  const int ctl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(ctl, reinterpret_cast<const sockaddr*>(&proxy), sizeof proxy) != 0)
    die("proxy connect");
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(udp_fd, reinterpret_cast<sockaddr*>(&local), &len);
  sockaddr_in dst{};  // RFC 1928 §7: our port, address unknown (zeros)
  dst.sin_family = AF_INET;
  dst.sin_port = local.sin_port;
  if (const char* step = bench::socks5_request(ctl, bench::kUdpAssociate, dst, &relay)) {
    std::fprintf(stderr, "udp_rtt: UDP ASSOCIATE: %s: %s\n", step, std::strerror(errno));
    std::exit(1);
  }
  if (relay.sin_addr.s_addr == INADDR_ANY) relay.sin_addr = proxy.sin_addr;  // RFC 1928 §7
  return ctl;
}

int run(bool own_socks, const sockaddr_in* proxy, const sockaddr_in& target, long count,
        double max_s, size_t size) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) die("bind");
  sockaddr_in relay{};
  int ctl = -1;
  if (own_socks) ctl = associate(*proxy, fd, relay);
  std::vector<char> out(size), in(size + 64);
  unsigned char hdr_out[10] = {0, 0, 0, 1};
  std::memcpy(hdr_out + 4, &target.sin_addr, 4);
  std::memcpy(hdr_out + 8, &target.sin_port, 2);
  unsigned char hdr_in[10];
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  long done = 0;
  double secs = 0;
  for (; done < count; ++done) {
    std::memcpy(out.data(), &done, sizeof done);
    ssize_t n;
    if (own_socks) {
      iovec iov[2] = {{hdr_out, sizeof hdr_out}, {out.data(), out.size()}};
      msghdr m{};
      m.msg_name = &relay;
      m.msg_namelen = sizeof relay;
      m.msg_iov = iov;
      m.msg_iovlen = 2;
      if (sendmsg(fd, &m, 0) < 0) die("sendmsg");
      iovec riov[2] = {{hdr_in, sizeof hdr_in}, {in.data(), in.size()}};
      msghdr r{};
      r.msg_iov = riov;
      r.msg_iovlen = 2;
      n = recvmsg(fd, &r, 0);
      n = n >= 10 ? n - 10 : -1;
    } else {
      if (sendto(fd, out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&target),
                 sizeof target) < 0) {
        die("sendto");
      }
      n = recv(fd, in.data(), in.size(), 0);
    }
    if (n != static_cast<ssize_t>(size) || std::memcmp(in.data(), out.data(), size) != 0) {
      std::fprintf(stderr, "udp_rtt: bad reply at %ld (%zd bytes)\n", done, n);
      return 1;
    }
    if ((done & 255) == 0) {
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (secs > max_s) break;
    }
  }
  secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::printf("round_trips=%ld seconds=%.3f rate=%.1f cpu_us_per_rtt=%.2f\n", done, secs,
              done / secs, cpu / done * 1e6);
  if (ctl >= 0) close(ctl);
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "echo" && argc == 4) return echo(argv[2], argv[3]);
  if (mode == "plain" && (argc == 5 || argc == 6)) {
    return run(false, nullptr, bench::parse_ipv4(argv[2], "udp_rtt"), std::atol(argv[3]),
               std::atof(argv[4]), argc == 6 ? std::strtoul(argv[5], nullptr, 10) : 64);
  }
  if (mode == "socks5" && (argc == 6 || argc == 7)) {
    const sockaddr_in proxy = bench::parse_ipv4(argv[2], "udp_rtt");
    return run(true, &proxy, bench::parse_ipv4(argv[3], "udp_rtt"), std::atol(argv[4]),
               std::atof(argv[5]), argc == 7 ? std::strtoul(argv[6], nullptr, 10) : 64);
  }
  std::fprintf(stderr,
               "usage: %s echo HOST PORT | plain TARGET COUNT MAX_S [SIZE] | "
               "socks5 PROXY TARGET COUNT MAX_S [SIZE]\n",
               argv[0]);
  return 2;
}
