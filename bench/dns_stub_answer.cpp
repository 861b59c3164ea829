// The pure half of the DNS stub (issue 10 item 2): parse a dig-style UDP query
// and build its answer from a NameTable, no socket. Prints median and p99 per
// query in microseconds, for new names (each claims a slot) and for names the
// table already holds. The target is < 50 us median for a whole stub
// round trip; this part must be a small fraction of it.
// Unlike the other benchmarks, this one links socksify_core: it measures a
// function, not a preloaded program.
//   socksify_bench_dns_stub_answer [queries]
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dns/dns_message.hpp"
#include "dns/dns_stub.hpp"
#include "dns/name_table.hpp"
#include "dns/name_table_source.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace socksify;

// What dig sends: RD, one question, an OPT with a cookie (dig's default).
std::vector<std::uint8_t> dig_query(const std::string& name, std::uint16_t id) {
  std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id),
                                 0x01,
                                 0x20,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 1};
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    q.push_back(static_cast<std::uint8_t>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});                            // root, A, IN
  q.insert(q.end(), {0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 12});  // OPT 1232, rdlen 12
  q.insert(q.end(), {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});      // COOKIE
  return q;
}

Cidr range(int family, const char* text, std::uint8_t prefix) {
  Cidr c;
  c.family = static_cast<std::uint8_t>(family);
  c.prefix = prefix;
  inet_pton(family, text, c.bytes);
  return c;
}

std::vector<double> run(dns::AddressSource& source,
                        const std::vector<std::vector<std::uint8_t>>& qs) {
  std::vector<double> lat;
  lat.reserve(qs.size());
  std::array<std::byte, 4096> out{};
  for (const auto& q : qs) {
    const auto start = Clock::now();
    const auto r =
        dns::answer_udp({reinterpret_cast<const std::byte*>(q.data()), q.size()}, source, {}, out);
    const auto end = Clock::now();
    if (r.action != dns::StubAction::Reply || r.rcode != dns::Rcode::NoError) {
      std::fprintf(stderr, "unexpected stub outcome\n");
      std::exit(1);
    }
    lat.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(lat.begin(), lat.end());
  return lat;
}

double pct(const std::vector<double>& v, double p) {
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  NameTable table(range(AF_INET, "240.0.0.0", 4), range(AF_INET6, "100::", 64),
                  static_cast<std::size_t>(n) + 1);
  dns::NameTableSource source(table);
  std::vector<std::vector<std::uint8_t>> qs;
  qs.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    qs.push_back(dig_query("h" + std::to_string(i) + ".Bench.Test", static_cast<std::uint16_t>(i)));
  }
  const auto fresh = run(source, qs);
  const auto known = run(source, qs);
  std::printf("dns stub parse+answer, %d dig-style A queries (EDNS, cookie)\n", n);
  std::printf("  new names:   median %.3f us  p99 %.3f us\n", pct(fresh, 0.5), pct(fresh, 0.99));
  std::printf("  known names: median %.3f us  p99 %.3f us\n", pct(known, 0.5), pct(known, 0.99));
  return 0;
}
