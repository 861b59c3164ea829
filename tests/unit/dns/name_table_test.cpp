#include "dns/name_table.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_cidr.hpp"

namespace socksify {
namespace {

using testing::cidr;  // built by hand: these tests must not depend on parse_cidr

const Cidr kV4 = cidr(AF_INET, "240.0.0.0", 4);
const Cidr kV6 = cidr(AF_INET6, "100::", 64);

std::array<std::uint8_t, 4> v4(const char* text) {
  std::array<std::uint8_t, 4> a{};
  EXPECT_EQ(inet_pton(AF_INET, text, a.data()), 1) << text;
  return a;
}

std::array<std::uint8_t, 16> v6(const char* text) {
  std::array<std::uint8_t, 16> a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
  return a;
}

std::string text_of(std::span<const std::uint8_t> a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.size() == 4 ? AF_INET : AF_INET6, a.data(), buf, sizeof buf);
  return buf;
}

std::string v4_of(NameTable& t, std::string_view name) {
  std::array<std::uint8_t, 4> a{};
  if (!t.address_for(name, AF_INET, a)) return "(none)";
  return text_of(a);
}

std::string v6_of(NameTable& t, std::string_view name) {
  std::array<std::uint8_t, 16> a{};
  if (!t.address_for(name, AF_INET6, a)) return "(none)";
  return text_of(a);
}

// The name an address maps back to, "(none)" when it maps to nothing.
std::string name_at(const NameTable& t, std::span<const std::uint8_t> addr) {
  auto ep = t.endpoint_for(addr, 443);
  if (!ep) return "(none)";
  EXPECT_EQ(ep->kind(), Endpoint::Kind::Name);
  EXPECT_EQ(ep->port(), 443);
  return std::string(ep->host_name());
}

TEST(NameTable, SameNameGetsSameAddress) {
  NameTable t(kV4, kV6, 1000);
  const std::string first = v4_of(t, "example.test");
  EXPECT_EQ(first, "240.0.0.1");  // base + 1: the network address is skipped
  EXPECT_EQ(v4_of(t, "other.test"), "240.0.0.2");
  EXPECT_EQ(v4_of(t, "example.test"), first);
}

TEST(NameTable, NamesCompareCaseInsensitivelyAndAreStoredLowerCased) {
  NameTable t(kV4, kV6, 1000);
  EXPECT_EQ(v4_of(t, "Example.TEST"), v4_of(t, "example.test"));
  EXPECT_EQ(name_at(t, v4("240.0.0.1")), "example.test");
}

TEST(NameTable, V4AndV6AddressesShareTheSlotAndBothMapBack) {
  NameTable t(kV4, kV6, 1000);
  v4_of(t, "a.test");
  EXPECT_EQ(v6_of(t, "b.test"), "100::2");
  EXPECT_EQ(v4_of(t, "b.test"), "240.0.0.2");
  EXPECT_EQ(name_at(t, v4("240.0.0.2")), "b.test");
  EXPECT_EQ(name_at(t, v6("100::2")), "b.test");
  // AI_V4MAPPED results are v4-mapped IPv6 addresses; they map back too.
  EXPECT_EQ(name_at(t, v6("::ffff:240.0.0.2")), "b.test");

  std::array<std::uint8_t, 4> a4{};
  std::array<std::uint8_t, 16> a6{};
  ASSERT_TRUE(t.addresses_for("c.test", a4, a6));
  EXPECT_EQ(text_of(a4), "240.0.0.3");
  EXPECT_EQ(text_of(a6), "100::3");
}

TEST(NameTable, InRangeCoversTheWholeRangeAndNothingElse) {
  NameTable t(kV4, kV6, 1000);
  EXPECT_TRUE(t.in_range(v4("240.0.0.0")));
  EXPECT_TRUE(t.in_range(v4("255.255.255.255")));
  EXPECT_FALSE(t.in_range(v4("239.255.255.255")));
  EXPECT_TRUE(t.in_range(v6("100::")));
  EXPECT_TRUE(t.in_range(v6("100::ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(t.in_range(v6("100:0:0:1::")));
  EXPECT_FALSE(t.in_range(v6("ff::ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(t.in_range(v6("::ffff:240.0.0.9")));
  EXPECT_FALSE(t.in_range(v6("::ffff:10.0.0.9")));
  const std::uint8_t three[3] = {240, 0, 0};
  EXPECT_FALSE(t.in_range(three));
}

TEST(NameTable, InRangeHonoursPrefixesThatSplitAByte) {
  NameTable t(cidr(AF_INET, "100.64.0.0", 10), kV6, 1000);
  EXPECT_TRUE(t.in_range(v4("100.64.0.0")));
  EXPECT_TRUE(t.in_range(v4("100.127.255.255")));
  EXPECT_FALSE(t.in_range(v4("100.128.0.0")));
  EXPECT_FALSE(t.in_range(v4("100.63.255.255")));
}

TEST(NameTable, AddressesOutsideTheRangeOrUnassignedMapToNothing) {
  NameTable t(kV4, kV6, 1000);
  v4_of(t, "a.test");
  EXPECT_EQ(name_at(t, v4("10.0.0.1")), "(none)");
  EXPECT_EQ(name_at(t, v4("240.0.0.0")), "(none)");  // network address
  EXPECT_EQ(name_at(t, v4("240.0.0.2")), "(none)");  // in range, not assigned
  EXPECT_EQ(name_at(t, v4("255.255.255.255")), "(none)");
  EXPECT_EQ(name_at(t, v6("100::ffff:ffff:ffff:ffff")), "(none)");
  EXPECT_EQ(name_at(t, v6("2001:db8::1")), "(none)");
  const std::uint8_t five[5] = {240, 0, 0, 1, 0};
  EXPECT_FALSE(t.endpoint_for(five, 80));
}

TEST(NameTable, IndexesCarryAcrossAddressBytes) {
  NameTable t(kV4, kV6, 1000);
  for (int i = 0; i < 256; ++i) v4_of(t, "n" + std::to_string(i) + ".test");
  EXPECT_EQ(v4_of(t, "n256.test"), "240.0.1.1");
  EXPECT_EQ(v6_of(t, "n256.test"), "100::101");
  EXPECT_EQ(name_at(t, v4("240.0.1.1")), "n256.test");
  EXPECT_EQ(name_at(t, v6("100::101")), "n256.test");
}

TEST(NameTable, ForgetsTheLeastRecentlyUsedNameButNeverReusesItsAddress) {
  NameTable t(kV4, kV6, 3);
  EXPECT_EQ(v4_of(t, "a.test"), "240.0.0.1");
  EXPECT_EQ(v4_of(t, "b.test"), "240.0.0.2");
  EXPECT_EQ(v4_of(t, "c.test"), "240.0.0.3");
  v4_of(t, "a.test");  // refreshes a: b is now the least recently used
  EXPECT_EQ(v4_of(t, "d.test"), "240.0.0.4");
  EXPECT_EQ(t.size(), 3u);
  // b is forgotten: its address maps to nothing, in both families.
  EXPECT_EQ(name_at(t, v4("240.0.0.2")), "(none)");
  EXPECT_EQ(name_at(t, v6("100::2")), "(none)");
  EXPECT_EQ(name_at(t, v4("240.0.0.4")), "d.test");
  EXPECT_EQ(name_at(t, v6("100::4")), "d.test");
  EXPECT_EQ(name_at(t, v4("240.0.0.1")), "a.test");
  // b comes back with a new address (c, least recently used now, goes).
  EXPECT_EQ(v4_of(t, "b.test"), "240.0.0.5");
  EXPECT_EQ(name_at(t, v4("240.0.0.5")), "b.test");
  EXPECT_EQ(name_at(t, v4("240.0.0.3")), "(none)");
  EXPECT_EQ(name_at(t, v4("240.0.0.2")), "(none)");
  EXPECT_EQ(v4_of(t, "a.test"), "240.0.0.1");
  EXPECT_EQ(v4_of(t, "d.test"), "240.0.0.4");
  std::array<std::uint8_t, 4> a{};
  EXPECT_FALSE(t.find_address("c.test", AF_INET, a));
}

// The bug this guards against: with 65,536 names held, the oldest name's
// address was handed to the next new name, so a program that kept it
// connected to another host.
TEST(NameTable, AfterCapacityPlusKNamesTheFirstAddressMapsToNothingAndIsNeverHandedOut) {
  constexpr std::size_t kCapacity = 1000;
  constexpr std::size_t kMore = 2500;
  NameTable t(kV4, kV6, kCapacity);
  std::array<std::uint8_t, 4> first4{};
  std::array<std::uint8_t, 16> first6{};
  ASSERT_TRUE(t.addresses_for("first.test", first4, first6));
  for (std::size_t i = 1; i < kCapacity + kMore; ++i) {
    std::array<std::uint8_t, 4> a4{};
    std::array<std::uint8_t, 16> a6{};
    const std::string name = "n" + std::to_string(i) + ".test";
    ASSERT_TRUE(t.addresses_for(name, a4, a6)) << name;
    ASSERT_NE(a4, first4) << name;
    ASSERT_NE(a6, first6) << name;
    ASSERT_LE(t.size(), kCapacity);  // memory stays bounded all along
    // Every address still maps to the name it was given to, or to nothing.
    auto back = t.endpoint_for(first4, 1);
    ASSERT_TRUE(!back || back->host_name() == "first.test") << name;
  }
  EXPECT_EQ(t.size(), kCapacity);
  EXPECT_EQ(name_at(t, first4), "(none)");
  EXPECT_EQ(name_at(t, first6), "(none)");
  EXPECT_EQ(name_at(t, v6("::ffff:240.0.0.1")), "(none)");
  // Resolved again, the name gets a fresh address, not its old one.
  const std::string again = v4_of(t, "first.test");
  EXPECT_NE(again, "240.0.0.1");
  EXPECT_EQ(again, text_of(v4("240.0.13.173")));  // number 3500 = 0xdac, address 0xdad
  EXPECT_EQ(name_at(t, first4), "(none)");
}

TEST(NameTable, AUsedUpRangeFailsNewNamesInsteadOfReusing) {
  // A /29 holds .0 (network), .1 to .6, and .7 (broadcast-like): six numbers,
  // ever, even though only two names are held at once.
  NameTable t(cidr(AF_INET, "10.9.8.0", 29), kV6, 2);
  EXPECT_EQ(t.capacity(), 2u);
  EXPECT_EQ(t.address_count(), 6u);
  for (int i = 1; i <= 6; ++i) {
    EXPECT_EQ(v4_of(t, "n" + std::to_string(i) + ".test"), "10.9.8." + std::to_string(i));
  }
  EXPECT_TRUE(t.exhausted());
  EXPECT_EQ(v4_of(t, "new.test"), "(none)");
  EXPECT_EQ(v6_of(t, "new.test"), "(none)");
  std::array<std::uint8_t, 4> a4{};
  std::array<std::uint8_t, 16> a6{};
  EXPECT_FALSE(t.addresses_for("new.test", a4, a6));
  EXPECT_EQ(v4_of(t, "n1.test"), "(none)");  // forgotten, and no number left for it
  // The names still held keep working.
  EXPECT_EQ(v4_of(t, "n6.test"), "10.9.8.6");
  EXPECT_EQ(name_at(t, v4("10.9.8.5")), "n5.test");
  EXPECT_EQ(name_at(t, v4("10.9.8.1")), "(none)");
  EXPECT_EQ(name_at(t, v4("10.9.8.7")), "(none)");
}

TEST(NameTable, ATinyRangeCapsTheCapacity) {
  // A /30 holds .0 (network), .1, .2 and .3 (broadcast-like): two names.
  NameTable t(cidr(AF_INET, "10.9.8.4", 30), kV6, 100);
  EXPECT_EQ(t.capacity(), 2u);
  EXPECT_EQ(v4_of(t, "a.test"), "10.9.8.5");
  EXPECT_EQ(v4_of(t, "b.test"), "10.9.8.6");
  EXPECT_EQ(v4_of(t, "c.test"), "(none)");  // .7 is never handed out, .5 never reused
  EXPECT_EQ(name_at(t, v4("10.9.8.7")), "(none)");
  EXPECT_EQ(name_at(t, v4("10.9.8.5")), "a.test");

  EXPECT_EQ(NameTable(kV4, cidr(AF_INET6, "100::", 127), 100).capacity(), 1u);
  EXPECT_EQ(NameTable(cidr(AF_INET, "10.0.0.0", 31), kV6, 100).capacity(), 0u);
  EXPECT_EQ(NameTable(kV4, kV6, 100).capacity(), 100u);
  EXPECT_EQ(NameTable(kV4, kV6, 100).address_count(), (1u << 28) - 2);
  EXPECT_EQ(NameTable(Cidr{}, kV6, 100).address_count(), ~std::uint64_t{0});
}

TEST(NameTable, ARangeWithoutCapacityHandsOutNothing) {
  NameTable t(cidr(AF_INET, "10.0.0.0", 32), kV6, 100);
  EXPECT_EQ(v4_of(t, "a.test"), "(none)");
  EXPECT_EQ(v6_of(t, "a.test"), "(none)");
}

TEST(NameTable, AnAbsentRangeNeitherCapsNorHandsOut) {
  NameTable t(kV4, Cidr{}, 100);
  EXPECT_EQ(t.capacity(), 100u);
  EXPECT_EQ(v4_of(t, "a.test"), "240.0.0.1");
  EXPECT_EQ(v6_of(t, "a.test"), "(none)");
  EXPECT_FALSE(t.in_range(v6("::")));
  EXPECT_TRUE(t.serves(AF_INET));
  EXPECT_FALSE(t.serves(AF_INET6));
  EXPECT_FALSE(NameTable(cidr(AF_INET, "10.0.0.0", 31), kV6, 100).serves(AF_INET6));
}

TEST(NameTable, MalformedRangesGiveNoCapacity) {
  EXPECT_EQ(NameTable(cidr(AF_INET6, "100::", 64), kV6, 100).capacity(), 0u);
  Cidr too_long = kV4;
  too_long.prefix = 33;
  EXPECT_EQ(NameTable(too_long, kV6, 100).capacity(), 0u);
}

TEST(NameTable, HostBitsLeftInTheRangeAreIgnored) {
  NameTable t(cidr(AF_INET, "10.1.2.3", 24), kV6, 100);
  EXPECT_EQ(v4_of(t, "a.test"), "10.1.2.1");
  EXPECT_TRUE(t.in_range(v4("10.1.2.200")));
}

TEST(NameTable, RejectsNamesAndBuffersItCannotServe) {
  NameTable t(kV4, kV6, 100);
  std::array<std::uint8_t, 4> a4{};
  std::array<std::uint8_t, 16> a6{};
  EXPECT_FALSE(t.address_for("", AF_INET, a4));
  EXPECT_FALSE(t.address_for(std::string(256, 'a'), AF_INET, a4));
  EXPECT_TRUE(t.address_for(std::string(255, 'a'), AF_INET, a4));
  EXPECT_FALSE(t.address_for("a.test", AF_INET, a6));
  EXPECT_FALSE(t.address_for("a.test", AF_INET6, a4));
  EXPECT_FALSE(t.address_for("a.test", AF_UNIX, a4));
  EXPECT_FALSE(t.addresses_for("", a4, a6));
}

TEST(NameTable, ConcurrentLookupsOfOverlappingNamesStayConsistent) {
  NameTable t(kV4, kV6, 100000);
  constexpr int kThreads = 8;
  constexpr int kLookups = 10000;
  constexpr int kNames = 500;  // every thread resolves the same names
  std::atomic<int> failures{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kLookups; ++i) {
        const std::string name = "host" + std::to_string((i * 7 + th) % kNames) + ".test";
        std::array<std::uint8_t, 4> a4{};
        std::array<std::uint8_t, 16> a6{};
        const bool ok = (i % 2 == 0)
                            ? t.addresses_for(name, a4, a6)
                            : t.address_for(name, AF_INET, a4) && t.address_for(name, AF_INET6, a6);
        auto back4 = t.endpoint_for(a4, 1);
        auto back6 = t.endpoint_for(a6, 1);
        if (!ok || !back4 || !back6 || back4->host_name() != name || back6->host_name() != name) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failures.load(), 0);
  // 80k lookups of a hash map: generous even under sanitizers on a busy machine.
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  // All threads agreed on one slot per name: the first names fill 1..kNames.
  std::array<std::uint8_t, 4> a4{};
  EXPECT_TRUE(t.address_for("fresh.test", AF_INET, a4));
  EXPECT_EQ(text_of(a4), "240.0.1.245");  // slot kNames = 500 = 0x1f4, address 0x1f5
}

TEST(NameTable, ConcurrentChurnAtCapacityKeepsBothFamiliesInOneSlot) {
  NameTable t(kV4, kV6, 16);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 10000; ++i) {
        const std::string name = "churn" + std::to_string((i * 13 + th * 5) % 200) + ".test";
        std::array<std::uint8_t, 4> a4{};
        std::array<std::uint8_t, 16> a6{};
        if (!t.addresses_for(name, a4, a6) || a4[3] != a6[15]) ++failures;
        // The name may have been forgotten since, but an address never
        // names anything but the name it was handed to.
        if (auto back = t.endpoint_for(a4, 1); back && back->host_name() != name) ++failures;
        if (auto back = t.endpoint_for(a6, 1); back && back->host_name() != name) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(NameTable, WorksInAForkedChild) {
  NameTable t(kV4, kV6, 100);
  v4_of(t, "parent.test");
  t.lock_for_fork();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  t.unlock_after_fork();
  if (pid == 0) {
    std::array<std::uint8_t, 4> a{};
    const bool ok = t.address_for("child.test", AF_INET, a) && a[3] == 2 &&
                    t.endpoint_for(v4("240.0.0.1"), 1).has_value();
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(name_at(t, v4("240.0.0.2")), "(none)");  // the child's name stays in the child
}

}  // namespace
}  // namespace socksify
