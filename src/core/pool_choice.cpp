#include "core/pool_choice.hpp"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace socksify {
namespace {

// One cursor per route group; groups beyond the array share cursors, which
// only makes their rotation less even, never wrong. A child of fork() carries
// on from its parent's position.
constexpr std::size_t kCursors = 64;
constinit std::atomic<std::uint32_t> g_cursor[kCursors] = {};

// xorshift64*, one state per thread, seeded once from getrandom (no fd).
std::uint64_t next_random() noexcept {
  thread_local std::uint64_t state = 0;
  if (state == 0) {
    std::uint64_t seed = 0;
    if (::getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) {
      timespec ts{};
      ::clock_gettime(CLOCK_MONOTONIC, &ts);
      seed = static_cast<std::uint64_t>(ts.tv_nsec) ^
             (static_cast<std::uint64_t>(::getpid()) << 32) ^ reinterpret_cast<std::uintptr_t>(&ts);
    }
    state = seed | 1;
  }
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

}  // namespace

std::size_t pool_start(std::size_t group, ProxyMode mode, std::size_t size) noexcept {
  if (size <= 1) return 0;
  switch (mode) {
    case ProxyMode::RoundRobin:
      return g_cursor[group % kCursors].fetch_add(1, std::memory_order_relaxed) % size;
    case ProxyMode::Random:
      return static_cast<std::size_t>(next_random() % size);
    case ProxyMode::Failover:
    case ProxyMode::Chain:
      break;
  }
  return 0;
}

}  // namespace socksify
