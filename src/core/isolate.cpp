#include "core/isolate.hpp"

#include <fmt/format.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace socksify {
namespace {

std::uint64_t process_nonce() {
  static std::atomic<std::uint64_t> nonce{0};
  std::uint64_t n = nonce.load(std::memory_order_relaxed);
  if (n != 0) return n;
  if (::getrandom(&n, sizeof n, GRND_NONBLOCK) != sizeof n) {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    n = static_cast<std::uint64_t>(ts.tv_nsec) * 0x9E3779B97F4A7C15ULL ^
        static_cast<std::uint64_t>(ts.tv_sec);
  }
  n |= 1;
  std::uint64_t expected = 0;
  // Two threads at once: both use the first one stored.
  if (!nonce.compare_exchange_strong(expected, n, std::memory_order_relaxed)) return expected;
  return n;
}

}  // namespace

const ProxySpec& isolated_login(const ProxySpec& spec, bool isolate, ProxySpec& scratch) {
  if (!isolate || spec.protocol != ProxyProtocol::Socks5 || !spec.user.empty()) return spec;
  scratch = spec;
  const std::uint64_t nonce = process_nonce();
  scratch.user = fmt::format("socksify-{}-{:016x}", ::getpid(), nonce);
  scratch.password = fmt::format("{:016x}", nonce);
  return scratch;
}

}  // namespace socksify
