// getaddrinfo() of names never seen before, from 8 threads at once: the cost of
// a remote-DNS lookup under socksify (run with the library preloaded and a
// socks5h proxy; nothing is sent anywhere, the name table answers).
// Prints the median and p99 latency in microseconds, and the baseline: the same
// threads resolving a numeric host, which libc answers without any lookup.
//   socksify_bench_resolve_names [threads] [names per thread]
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::vector<double> run(int threads, int per_thread, bool numeric) {
  std::vector<std::vector<double>> lat(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      addrinfo hints{};
      hints.ai_socktype = SOCK_STREAM;
      lat[t].reserve(per_thread);
      for (int i = 0; i < per_thread; ++i) {
        const std::string name =
            numeric ? "127.0.0.1"
                    : "h" + std::to_string(t) + "-" + std::to_string(i) + ".bench.test";
        addrinfo* res = nullptr;
        const auto start = Clock::now();
        const int rc = getaddrinfo(name.c_str(), "443", &hints, &res);
        const auto end = Clock::now();
        if (rc != 0) {
          std::fprintf(stderr, "getaddrinfo(%s): %s\n", name.c_str(), gai_strerror(rc));
          std::exit(1);
        }
        freeaddrinfo(res);
        lat[t].push_back(std::chrono::duration<double, std::micro>(end - start).count());
      }
    });
  }
  for (auto& th : pool) th.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  return all;
}

double pct(const std::vector<double>& v, double p) {
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 8;
  const int per_thread = argc > 2 ? std::atoi(argv[2]) : 5000;
  const auto base = run(threads, per_thread, true);
  const auto names = run(threads, per_thread, false);
  std::printf("getaddrinfo over %d threads x %d calls\n", threads, per_thread);
  std::printf("  numeric host (baseline): median %.2f us  p99 %.2f us\n", pct(base, 0.5),
              pct(base, 0.99));
  std::printf("  new names:               median %.2f us  p99 %.2f us\n", pct(names, 0.5),
              pct(names, 0.99));
  std::printf("  ratio (median)           %.2f\n", pct(names, 0.5) / pct(base, 0.5));
  return 0;
}
