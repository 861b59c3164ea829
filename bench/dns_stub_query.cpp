// dig-style UDP DNS query latency: one A query for a new name at a time, sent
// with sendto and its answer read with recvfrom (as dig, c-ares and Chromium
// do), timed per query. Links nothing of socksify.
//
//   socksify_bench_dns_stub_query serve HOST PORT        a minimal responder:
//       answers every query with one A record (the baseline's resolver)
//   socksify_bench_dns_stub_query query HOST PORT COUNT MAX_SECONDS
//       prints queries=N median_us=X p99_us=Y
// Under LD_PRELOAD with socks5h, a query to a system resolver (127.0.0.53) is
// answered by socksify's DNS stub: that run is the stub's latency, and the
// baseline is the same program against the responder above.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

sockaddr_in address(const char* host, const char* port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    std::fprintf(stderr, "bad address %s\n", host);
    std::exit(2);
  }
  return a;
}

std::size_t make_query(std::uint8_t* out, std::uint16_t id, const std::string& name) {
  std::size_t n = 0;
  const std::uint8_t head[12] = {static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id),
                                 0x01,
                                 0x00,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0};
  std::memcpy(out, head, 12);
  n = 12;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out[n++] = static_cast<std::uint8_t>(dot - start);
    std::memcpy(out + n, name.data() + start, dot - start);
    n += dot - start;
    start = dot + 1;
  }
  out[n++] = 0;
  const std::uint8_t tail[4] = {0, 1, 0, 1};  // A, IN
  std::memcpy(out + n, tail, 4);
  return n + 4;
}

int serve(const char* host, const char* port) {
  const int s = socket(AF_INET, SOCK_DGRAM, 0);
  const sockaddr_in a = address(host, port);
  if (bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind");
    return 1;
  }
  std::uint8_t buf[1500];
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n =
        recvfrom(s, buf, sizeof buf - 16, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 12) continue;
    buf[2] = 0x81;  // QR, RD
    buf[3] = 0x80;  // RA
    buf[7] = 1;     // ANCOUNT 1
    const std::uint8_t rr[16] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4, 10, 9, 8, 7};
    std::memcpy(buf + n, rr, sizeof rr);
    sendto(s, buf, static_cast<std::size_t>(n) + sizeof rr, 0, reinterpret_cast<sockaddr*>(&from),
           len);
  }
}

int query(const char* host, const char* port, long count, double max_s) {
  const sockaddr_in to = address(host, port);
  const int s = socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(count));
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(max_s);
  std::uint8_t q[512], r[1500];
  for (long i = 0; i < count && std::chrono::steady_clock::now() < end; ++i) {
    const std::string name = "n" + std::to_string(i) + ".bench.test";  // a new name each time
    const auto id = static_cast<std::uint16_t>(i);
    const std::size_t n = make_query(q, id, name);
    const auto t0 = std::chrono::steady_clock::now();
    if (sendto(s, q, n, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
      std::perror("sendto");
      return 1;
    }
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t got = recvfrom(s, r, sizeof r, 0, reinterpret_cast<sockaddr*>(&from), &len);
    const auto t1 = std::chrono::steady_clock::now();
    if (got < 12 || r[0] != q[0] || r[1] != q[1] || from.sin_port != to.sin_port ||
        from.sin_addr.s_addr != to.sin_addr.s_addr) {
      std::fprintf(stderr, "query %ld: no answer from the server (%zd bytes)\n", i, got);
      return 1;
    }
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  if (us.empty()) return 1;
  std::printf("queries=%zu median_us=%.2f p99_us=%.2f\n", us.size(), us[us.size() / 2],
              us[std::min(us.size() - 1, us.size() * 99 / 100)]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "serve") == 0) return serve(argv[2], argv[3]);
  if (argc == 6 && std::strcmp(argv[1], "query") == 0) {
    return query(argv[2], argv[3], std::atol(argv[4]), std::atof(argv[5]));
  }
  std::fprintf(stderr, "usage: %s serve HOST PORT | query HOST PORT COUNT MAX_SECONDS\n", argv[0]);
  return 2;
}
