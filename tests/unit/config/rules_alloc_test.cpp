// is_direct runs inside connect(): it must not allocate. This binary replaces
// the global operator new to count calls, which is why it is separate from
// socksify_unit_tests (a replacement there would be global to every test).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "config/rules.hpp"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace socksify {
namespace {

TEST(IsDirectAllocations, NoneForAnyKindOfRuleOrDestination) {
  Settings s;
  for (const char* text : {"10.0.0.0/8", "fd00::/8:443", ".example.test", "intranet", ":53"}) {
    s.direct_rules.push_back(*parse_direct_rule(text));
  }
  const std::uint8_t v4[4] = {10, 1, 2, 3};
  const std::uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const Endpoint destinations[] = {
      Endpoint::ipv4(v4, 80),
      Endpoint::ipv6(v6, 443),
      *Endpoint::name("A.Example.Test.", 80),
      *Endpoint::name("elsewhere.test", 80),
      *Endpoint::name("fd00::7", 443),
      *Endpoint::name("localhost", 80),
      *Endpoint::name(std::string(255, 'x'), 1),
  };
  int direct = 0;
  const long before = g_allocations.load();
  for (const Endpoint& dst : destinations) direct += is_direct(s, dst) ? 1 : 0;
  const long after = g_allocations.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_EQ(direct, 5);  // all but elsewhere.test and the long name
}

TEST(IsDirectAllocations, TheCounterWorks) {
  const long before = g_allocations.load();
  // A direct call: new-expressions may be elided, calls to operator new not.
  void* p = ::operator new(16);
  ::operator delete(p);
  EXPECT_EQ(g_allocations.load() - before, 1);
}

}  // namespace
}  // namespace socksify
