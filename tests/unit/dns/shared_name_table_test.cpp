#include "dns/shared_name_table.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dns/name_table_source.hpp"
#include "dns_bytes.hpp"
#include "test_cidr.hpp"

namespace socksify {
namespace {

using Clock = std::chrono::steady_clock;

using ::socksify::testing::cidr;

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

// A zero-filled, MAP_SHARED anonymous mapping: what a forked child shares, and
// what a memfd mapping will look like.
class Region {
 public:
  explicit Region(std::size_t size) : size_(size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    data_ = static_cast<std::byte*>(p);
  }
  ~Region() { munmap(data_, size_); }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  std::span<std::byte> span() { return {data_, size_}; }
  std::byte* data() { return data_; }

 private:
  std::byte* data_;
  std::size_t size_;
};

struct Table {
  explicit Table(std::size_t capacity, Cidr a = kV4, Cidr b = kV6)
      : region(SharedNameTable::region_size(capacity)) {
    auto t = SharedNameTable::create(region.span(), a, b, capacity);
    EXPECT_TRUE(t.has_value());
    if (t) table.emplace(*t);
  }
  SharedNameTable& operator*() { return *table; }
  SharedNameTable* operator->() { return &*table; }
  Region region;
  std::optional<SharedNameTable> table;
};

std::string v4_of(SharedNameTable& t, std::string_view name) {
  std::array<std::uint8_t, 4> a{};
  if (!t.address_for(name, AF_INET, a)) return "(none)";
  return text_of(a);
}

std::string v6_of(SharedNameTable& t, std::string_view name) {
  std::array<std::uint8_t, 16> a{};
  if (!t.address_for(name, AF_INET6, a)) return "(none)";
  return text_of(a);
}

std::string name_at(const SharedNameTable& t, std::span<const std::uint8_t> addr) {
  auto ep = t.endpoint_for(addr, 443);
  if (!ep) return "(none)";
  EXPECT_EQ(ep->kind(), Endpoint::Kind::Name);
  EXPECT_EQ(ep->port(), 443);
  return std::string(ep->host_name());
}

// The number an IPv4 address of 240.0.0.0/4 carries.
std::uint32_t number_of(const std::array<std::uint8_t, 4>& a) {
  return ((std::uint32_t{a[0]} & 0x0f) << 24 | std::uint32_t{a[1]} << 16 |
          std::uint32_t{a[2]} << 8 | a[3]) -
         1;
}

std::array<std::uint8_t, 4> address_of_number(std::uint32_t n) {
  const std::uint32_t host = n + 1;
  return {static_cast<std::uint8_t>(240 | (host >> 24)), static_cast<std::uint8_t>(host >> 16),
          static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host)};
}

TEST(SharedNameTable, SameNameGetsSameAddress) {
  Table t(1000);
  EXPECT_EQ(v4_of(*t, "example.test"), "240.0.0.1");
  EXPECT_EQ(v4_of(*t, "other.test"), "240.0.0.2");
  EXPECT_EQ(v4_of(*t, "example.test"), "240.0.0.1");
  EXPECT_EQ(t->size(), 2u);
}

TEST(SharedNameTable, NamesCompareCaseInsensitivelyAndAreStoredLowerCased) {
  Table t(1000);
  EXPECT_EQ(v4_of(*t, "Example.TEST"), v4_of(*t, "example.test"));
  EXPECT_EQ(name_at(*t, v4("240.0.0.1")), "example.test");
}

TEST(SharedNameTable, V4AndV6AddressesShareTheNumberAndBothMapBack) {
  Table t(1000);
  v4_of(*t, "a.test");
  EXPECT_EQ(v6_of(*t, "b.test"), "100::2");
  EXPECT_EQ(v4_of(*t, "b.test"), "240.0.0.2");
  EXPECT_EQ(name_at(*t, v4("240.0.0.2")), "b.test");
  EXPECT_EQ(name_at(*t, v6("100::2")), "b.test");
  EXPECT_EQ(name_at(*t, v6("::ffff:240.0.0.2")), "b.test");
  std::array<std::uint8_t, 4> a4{};
  std::array<std::uint8_t, 16> a6{};
  ASSERT_TRUE(t->addresses_for("c.test", a4, a6));
  EXPECT_EQ(text_of(a4), "240.0.0.3");
  EXPECT_EQ(text_of(a6), "100::3");
  ASSERT_TRUE(t->find_address("C.test", AF_INET6, a6));
  EXPECT_EQ(text_of(a6), "100::3");
  EXPECT_FALSE(t->find_address("d.test", AF_INET, a4));
  EXPECT_EQ(v4_of(*t, "d.test"), "240.0.0.4");  // find_address claimed nothing
}

TEST(SharedNameTable, InRangeCoversTheWholeRangeAndNothingElse) {
  Table t(1000, cidr(AF_INET, "100.64.0.0", 10));
  EXPECT_TRUE(t->in_range(v4("100.64.0.0")));
  EXPECT_TRUE(t->in_range(v4("100.127.255.255")));
  EXPECT_FALSE(t->in_range(v4("100.128.0.0")));
  EXPECT_TRUE(t->in_range(v6("100::ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(t->in_range(v6("100:0:0:1::")));
  EXPECT_TRUE(t->in_range(v6("::ffff:100.64.0.9")));
  EXPECT_FALSE(t->in_range(v6("::ffff:10.0.0.9")));
  const std::uint8_t three[3] = {100, 64, 0};
  EXPECT_FALSE(t->in_range(three));
}

TEST(SharedNameTable, AddressesOutsideTheRangeOrUnassignedMapToNothing) {
  Table t(1000);
  v4_of(*t, "a.test");
  EXPECT_EQ(name_at(*t, v4("10.0.0.1")), "(none)");
  EXPECT_EQ(name_at(*t, v4("240.0.0.0")), "(none)");
  EXPECT_EQ(name_at(*t, v4("240.0.0.2")), "(none)");
  EXPECT_EQ(name_at(*t, v4("255.255.255.255")), "(none)");
  EXPECT_EQ(name_at(*t, v6("100::ffff:ffff:ffff:ffff")), "(none)");
  EXPECT_EQ(name_at(*t, v6("2001:db8::1")), "(none)");
  // 240.0.3.233 is number 1000: the slot of number 0, which must not answer.
  EXPECT_EQ(name_at(*t, address_of_number(1000)), "(none)");
  const std::uint8_t five[5] = {240, 0, 0, 1, 0};
  EXPECT_FALSE(t->endpoint_for(five, 80));
}

TEST(SharedNameTable, IndexesCarryAcrossAddressBytes) {
  Table t(1000);
  for (int i = 0; i < 256; ++i) v4_of(*t, "n" + std::to_string(i) + ".test");
  EXPECT_EQ(v4_of(*t, "n256.test"), "240.0.1.1");
  EXPECT_EQ(v6_of(*t, "n256.test"), "100::101");
  EXPECT_EQ(name_at(*t, v4("240.0.1.1")), "n256.test");
  EXPECT_EQ(name_at(*t, v6("100::101")), "n256.test");
}

TEST(SharedNameTable, ForgetsTheOldestNumberButNeverReusesItsAddress) {
  Table t(4);
  EXPECT_EQ(v4_of(*t, "a.test"), "240.0.0.1");
  EXPECT_EQ(v4_of(*t, "b.test"), "240.0.0.2");
  EXPECT_EQ(v4_of(*t, "c.test"), "240.0.0.3");
  EXPECT_EQ(v4_of(*t, "b.test"), "240.0.0.2");  // 1 claim since: not in the older half
  // a's number 0 has 3 claims after it, more than capacity/2: a is renewed,
  // and its old address still maps back to it.
  EXPECT_EQ(v4_of(*t, "a.test"), "240.0.0.4");
  EXPECT_EQ(name_at(*t, v4("240.0.0.1")), "a.test");
  EXPECT_EQ(v4_of(*t, "a.test"), "240.0.0.4");
  // d takes number 4, slot 0: a's old address now maps to nothing.
  EXPECT_EQ(v4_of(*t, "d.test"), "240.0.0.5");
  EXPECT_EQ(name_at(*t, v4("240.0.0.1")), "(none)");
  EXPECT_EQ(name_at(*t, v6("100::1")), "(none)");
  EXPECT_EQ(name_at(*t, v4("240.0.0.4")), "a.test");
  EXPECT_EQ(t->size(), 4u);
  // e takes slot 1: b is forgotten, and comes back with a new address.
  EXPECT_EQ(v4_of(*t, "e.test"), "240.0.0.6");
  EXPECT_EQ(name_at(*t, v4("240.0.0.2")), "(none)");
  std::array<std::uint8_t, 4> a{};
  EXPECT_FALSE(t->find_address("b.test", AF_INET, a));
  EXPECT_EQ(v4_of(*t, "b.test"), "240.0.0.7");
  EXPECT_EQ(name_at(*t, v4("240.0.0.7")), "b.test");
  EXPECT_EQ(name_at(*t, v4("240.0.0.3")), "(none)");  // c went with slot 2
  EXPECT_EQ(name_at(*t, v4("240.0.0.2")), "(none)");  // never handed out again
}

TEST(SharedNameTable, RenewalKeepsAFrequentlyResolvedNameAndItsRecentAddresses) {
  Table t(8);
  std::vector<std::array<std::uint8_t, 4>> handed;
  std::set<std::array<std::uint8_t, 4>> distinct;
  for (int i = 0; i < 200; ++i) {
    std::array<std::uint8_t, 4> hot{};
    ASSERT_TRUE(t->address_for("hot.test", AF_INET, hot));
    handed.push_back(hot);
    distinct.insert(hot);
    // An address handed out stays good for capacity/2 more claims: the last
    // two iterations made at most 2 new names and 1 renewal.
    for (std::size_t j = handed.size() >= 3 ? handed.size() - 3 : 0; j < handed.size(); ++j) {
      ASSERT_EQ(name_at(*t, handed[j]), "hot.test") << "iteration " << i;
    }
    ASSERT_NE(v4_of(*t, "new" + std::to_string(i) + ".test"), "(none)");
  }
  // Renewed about every capacity/2 - 1 new names, not on every resolve.
  EXPECT_GT(distinct.size(), 40u);
  EXPECT_LT(distinct.size(), 80u);
}

TEST(SharedNameTable, AfterCapacityPlusKNamesTheFirstAddressMapsToNothingAndIsNeverHandedOut) {
  constexpr std::size_t kCapacity = 1000;
  constexpr std::size_t kMore = 2500;
  Table t(kCapacity);
  std::array<std::uint8_t, 4> first4{};
  std::array<std::uint8_t, 16> first6{};
  ASSERT_TRUE(t->addresses_for("first.test", first4, first6));
  for (std::size_t i = 1; i < kCapacity + kMore; ++i) {
    std::array<std::uint8_t, 4> a4{};
    std::array<std::uint8_t, 16> a6{};
    const std::string name = "n" + std::to_string(i) + ".test";
    ASSERT_TRUE(t->addresses_for(name, a4, a6)) << name;
    ASSERT_NE(a4, first4) << name;
    ASSERT_NE(a6, first6) << name;
    auto back = t->endpoint_for(first4, 1);
    ASSERT_TRUE(!back || back->host_name() == "first.test") << name;
  }
  EXPECT_EQ(t->size(), kCapacity);
  EXPECT_EQ(t->unindexed(), 0u);
  EXPECT_EQ(name_at(*t, first4), "(none)");
  EXPECT_EQ(name_at(*t, first6), "(none)");
  const std::string again = v4_of(*t, "first.test");
  EXPECT_EQ(again, text_of(v4("240.0.13.173")));  // number 3500 = 0xdac, address 0xdad
  EXPECT_EQ(name_at(*t, first4), "(none)");
  // Each of the last kCapacity numbers maps back to its own name.
  for (std::uint32_t n = kCapacity + kMore - kCapacity + 1; n < kCapacity + kMore; ++n) {
    ASSERT_EQ(name_at(*t, address_of_number(n)), "n" + std::to_string(n) + ".test");
  }
}

TEST(SharedNameTable, AUsedUpRangeFailsNewNamesInsteadOfReusing) {
  Table t(2, cidr(AF_INET, "10.9.8.0", 29));
  EXPECT_EQ(t->capacity(), 2u);
  EXPECT_EQ(t->address_count(), 6u);
  for (int i = 1; i <= 6; ++i) {
    EXPECT_EQ(v4_of(*t, "n" + std::to_string(i) + ".test"), "10.9.8." + std::to_string(i));
  }
  EXPECT_TRUE(t->exhausted());
  EXPECT_EQ(v4_of(*t, "new.test"), "(none)");
  EXPECT_EQ(v6_of(*t, "new.test"), "(none)");
  EXPECT_EQ(v4_of(*t, "n1.test"), "(none)");
  EXPECT_EQ(v4_of(*t, "n6.test"), "10.9.8.6");
  EXPECT_EQ(name_at(*t, v4("10.9.8.5")), "n5.test");
  EXPECT_EQ(name_at(*t, v4("10.9.8.1")), "(none)");
  EXPECT_EQ(name_at(*t, v4("10.9.8.7")), "(none)");
}

TEST(SharedNameTable, CreateCapsCapacityAndRefusesWhatItCannotServe) {
  {
    Table t(100, cidr(AF_INET, "10.9.8.4", 30));
    EXPECT_EQ(t->capacity(), 2u);
    EXPECT_EQ(v4_of(*t, "a.test"), "10.9.8.5");
    EXPECT_EQ(v4_of(*t, "b.test"), "10.9.8.6");
    EXPECT_EQ(v4_of(*t, "c.test"), "(none)");
  }
  Region r(SharedNameTable::region_size(100));
  EXPECT_FALSE(SharedNameTable::create(r.span(), cidr(AF_INET, "10.0.0.0", 31), kV6, 100));
  EXPECT_FALSE(SharedNameTable::create(r.span(), kV6, kV6, 100));
  Cidr too_long = kV4;
  too_long.prefix = 33;
  EXPECT_FALSE(SharedNameTable::create(r.span(), too_long, kV6, 100));
  EXPECT_FALSE(SharedNameTable::create(r.span(), Cidr{}, Cidr{}, 100));
  EXPECT_FALSE(SharedNameTable::create(r.span(), kV4, kV6, 0));
  EXPECT_FALSE(SharedNameTable::create(r.span().first(r.span().size() - 1), kV4, kV6, 100));
  EXPECT_FALSE(SharedNameTable::create(r.span().subspan(8), kV4, kV6, 50));  // misaligned
  EXPECT_EQ(SharedNameTable::region_size(0), 0u);
  EXPECT_EQ(SharedNameTable::region_size(SharedNameTable::kMaxCapacity + 1), 0u);
  auto t = SharedNameTable::create(r.span(), kV4, Cidr{}, 100);
  ASSERT_TRUE(t);
  EXPECT_EQ(v4_of(*t, "a.test"), "240.0.0.1");
  EXPECT_EQ(v6_of(*t, "a.test"), "(none)");
  EXPECT_FALSE(t->serves(AF_INET6));
}

TEST(SharedNameTable, HostBitsLeftInTheRangeAreIgnored) {
  Table t(100, cidr(AF_INET, "10.1.2.3", 24));
  EXPECT_EQ(v4_of(*t, "a.test"), "10.1.2.1");
}

TEST(SharedNameTable, RejectsNamesAndBuffersItCannotServe) {
  Table t(100);
  std::array<std::uint8_t, 4> a4{};
  std::array<std::uint8_t, 16> a6{};
  EXPECT_FALSE(t->address_for("", AF_INET, a4));
  EXPECT_FALSE(t->address_for(std::string(256, 'a'), AF_INET, a4));
  EXPECT_TRUE(t->address_for(std::string(255, 'A'), AF_INET, a4));
  EXPECT_EQ(name_at(*t, a4), std::string(255, 'a'));
  EXPECT_FALSE(t->address_for("a.test", AF_INET, a6));
  EXPECT_FALSE(t->address_for("a.test", AF_INET6, a4));
  EXPECT_FALSE(t->address_for("a.test", AF_UNIX, a4));
  EXPECT_FALSE(t->addresses_for("", a4, a6));
}

TEST(SharedNameTable, AttachSeesTheSameTableAtAnotherAddress) {
  Table t(100);
  ASSERT_EQ(v4_of(*t, "one.test"), "240.0.0.1");
  auto same = SharedNameTable::attach(t.region.span());
  ASSERT_TRUE(same);
  EXPECT_EQ(name_at(*same, v4("240.0.0.1")), "one.test");
  EXPECT_EQ(v4_of(*same, "two.test"), "240.0.0.2");
  EXPECT_EQ(name_at(*t, v4("240.0.0.2")), "two.test");
  // A second mapping of the same memory (what another process gets): the
  // table holds no pointers, so it works wherever it is mapped.
  const std::size_t size = SharedNameTable::region_size(100);
  Region copy(size);
  std::memcpy(copy.data(), t.region.data(), size);
  auto moved = SharedNameTable::attach(copy.span());
  ASSERT_TRUE(moved);
  EXPECT_EQ(v4_of(*moved, "one.test"), "240.0.0.1");
  EXPECT_EQ(name_at(*moved, v4("240.0.0.2")), "two.test");
  EXPECT_EQ(moved->capacity(), 100u);
}

TEST(SharedNameTable, AttachRejectsACorruptForeignOrTruncatedRegion) {
  Table t(100);
  const std::size_t size = SharedNameTable::region_size(100);
  ASSERT_TRUE(SharedNameTable::attach(t.region.span()));
  Region zero(size);
  EXPECT_FALSE(SharedNameTable::attach(zero.span()));  // never created
  EXPECT_FALSE(SharedNameTable::attach(t.region.span().first(size - 1)));
  EXPECT_FALSE(SharedNameTable::attach(t.region.span().first(16)));
  EXPECT_FALSE(SharedNameTable::attach({}));
  // Every byte of the header's fixed fields (magic to checksum: 104 bytes)
  // matters: one flipped bit anywhere is rejected.
  Region bad(size);
  for (std::size_t i = 0; i < 104; ++i) {
    for (const std::uint8_t bit : {0x01, 0x80}) {
      std::memcpy(bad.data(), t.region.data(), size);
      bad.data()[i] ^= std::byte{bit};
      EXPECT_FALSE(SharedNameTable::attach(bad.span())) << "byte " << i << " bit " << int{bit};
    }
  }
  // A table of another capacity in a region of this one's size is accepted
  // only as itself; a bigger one in a smaller region is not.
  Region big(SharedNameTable::region_size(200));
  ASSERT_TRUE(SharedNameTable::create(big.span(), kV4, kV6, 200));
  EXPECT_FALSE(SharedNameTable::attach(big.span().first(size)));
}

TEST(SharedNameTable, EightThreadsTenThousandNamesEach) {
  constexpr int kThreads = 8;
  constexpr int kNames = 10000;
  constexpr int kStride = 5000;  // thread th resolves names th*5000 .. th*5000+9999
  constexpr int kDistinct = kStride * (kThreads - 1) + kNames;
  // Room for every number the run can use (each name resolved by two threads:
  // a race's loser uses one up too), so no name reaches the older half of the
  // window, where renewal would rightly give it a second number. At 100000
  // the losers sometimes took `next` past 50000 and the test failed.
  Table t(1 << 18);
  static_assert(kDistinct * 2 + kThreads * 64 < (1 << 18) / 2);
  std::vector<std::vector<std::uint32_t>> got(kThreads, std::vector<std::uint32_t>(kNames));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kNames; ++i) {
        const std::string name = "host" + std::to_string(th * kStride + i) + ".test";
        std::array<std::uint8_t, 4> a4{};
        std::array<std::uint8_t, 16> a6{};
        if (!t->addresses_for(name, a4, a6) || a4[3] != a6[15]) {
          ++failures;
          continue;
        }
        got[th][i] = number_of(a4);
        auto back = t->endpoint_for(a6, 1);
        if (!back || back->host_name() != name) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(t->unindexed(), 0u);
  // One number per name, one name per number.
  std::map<int, std::uint32_t> number_of_name;
  std::map<std::uint32_t, int> name_of_number;
  for (int th = 0; th < kThreads; ++th) {
    for (int i = 0; i < kNames; ++i) {
      const int name = th * kStride + i;
      auto [it, fresh] = number_of_name.emplace(name, got[th][i]);
      EXPECT_EQ(it->second, got[th][i]) << "host" << name;
      auto [jt, fresh2] = name_of_number.emplace(got[th][i], name);
      EXPECT_EQ(jt->second, name) << "number " << got[th][i];
    }
  }
  EXPECT_EQ(number_of_name.size(), static_cast<std::size_t>(kDistinct));
  // A race's loser published a number too (same name, never handed out).
  EXPECT_GE(t->size(), static_cast<std::size_t>(kDistinct));
}

TEST(SharedNameTable, ConcurrentChurnAtCapacityNeverMapsAnAddressToAnotherName) {
  Table t(16);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 10000; ++i) {
        const std::string name = "churn" + std::to_string((i * 13 + th * 5) % 200) + ".test";
        std::array<std::uint8_t, 4> a4{};
        std::array<std::uint8_t, 16> a6{};
        if (!t->addresses_for(name, a4, a6) || a4[3] != a6[15]) ++failures;
        if (auto back = t->endpoint_for(a4, 1); back && back->host_name() != name) ++failures;
        if (auto back = t->endpoint_for(a6, 1); back && back->host_name() != name) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(t->size(), 16u);
}

// Waits for pid, at most `limit`; kills it if it is still running.
bool wait_exit_ok(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  int status = 0;
  while (Clock::now() < deadline) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (r < 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return false;
}

TEST(SharedNameTable, ForkedProcessesAgreeOnEveryAddress) {
  constexpr int kChildren = 4;
  constexpr int kNames = 3000;
  constexpr int kStride = 1000;  // overlapping: child c resolves c*1000 .. c*1000+2999
  constexpr int kDistinct = kStride * (kChildren - 1) + kNames;
  // As in EightThreadsTenThousandNamesEach: room for the losers' numbers, so
  // renewal never gives a name a second one (each name is resolved by up to
  // three children: two losers).
  Table t(1 << 16);
  static_assert(kDistinct * 3 + kChildren * 64 < (1 << 16) / 2);
  v4_of(*t, "parent.test");
  // Where the children report the number each name got.
  Region results(sizeof(std::uint32_t) * kChildren * kNames);
  auto* got = reinterpret_cast<std::uint32_t*>(results.data());
  std::vector<pid_t> pids;
  for (int c = 0; c < kChildren; ++c) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // As a later exec'd process would: attach to the region, not the handle.
      auto mine = SharedNameTable::attach(t.region.span());
      if (!mine) _exit(2);
      for (int i = 0; i < kNames; ++i) {
        const std::string name = "proc" + std::to_string(c * kStride + i) + ".test";
        std::array<std::uint8_t, 4> a{};
        std::array<std::uint8_t, 16> a6{};
        if (!mine->address_for(name, AF_INET6, a6)) _exit(3);
        if (!mine->address_for(name, AF_INET, a)) _exit(3);
        got[c * kNames + i] = number_of(a);
        if (name_at(*mine, a6) != name) _exit(4);
      }
      if (name_at(*mine, v4("240.0.0.1")) != "parent.test") _exit(5);
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (const pid_t pid : pids) EXPECT_TRUE(wait_exit_ok(pid, std::chrono::seconds(30)));
  std::map<int, std::uint32_t> number_of_name;
  std::set<std::uint32_t> numbers;
  for (int c = 0; c < kChildren; ++c) {
    for (int i = 0; i < kNames; ++i) {
      const int name = c * kStride + i;
      const std::uint32_t n = got[c * kNames + i];
      auto [it, fresh] = number_of_name.emplace(name, n);
      EXPECT_EQ(it->second, n) << "proc" << name << " got two numbers";
      // ... and the parent maps it back to the same name.
      EXPECT_EQ(name_at(*t, address_of_number(n)), "proc" + std::to_string(name) + ".test");
      if (fresh) numbers.insert(n);
    }
  }
  EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kDistinct));  // no shared address
  EXPECT_EQ(numbers.count(0), 0u);                                 // parent.test's
  EXPECT_EQ(t->unindexed(), 0u);
}

TEST(SharedNameTable, AProcessKilledMidInsertLeavesTheTableUsable) {
  // Small, so the killed writers churn through every slot and some die with a
  // slot half written.
  Table t(64);
  for (int round = 0; round < 8; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::array<std::uint8_t, 4> a{};
      for (int i = 0; i < 50000000; ++i) {
        // Long names: many words per slot, so a kill is likely mid-write.
        t->address_for("victim-" + std::string(200, 'x') + std::to_string(i), AF_INET, a);
      }
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + round * 7));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status));

    // Nothing to wait for: every operation below is lock-free, bounded.
    const auto start = Clock::now();
    std::vector<std::array<std::uint8_t, 4>> addrs(64);
    for (int i = 0; i < 64; ++i) {
      const std::string name = "after" + std::to_string(round) + "-" + std::to_string(i);
      ASSERT_TRUE(t->address_for(name, AF_INET, addrs[i])) << name;
    }
    // Every slot was rewritten, half-written ones included.
    for (int i = 0; i < 64; ++i) {
      ASSERT_EQ(name_at(*t, addrs[i]), "after" + std::to_string(round) + "-" + std::to_string(i));
    }
    // The newer half (not due for renewal) is found again by name.
    for (int i = 32; i < 64; ++i) {
      std::array<std::uint8_t, 4> again{};
      ASSERT_TRUE(t->address_for("after" + std::to_string(round) + "-" + std::to_string(i), AF_INET,
                                 again));
      ASSERT_EQ(again, addrs[i]);
    }
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(t->size(), 64u);
  }
  EXPECT_FALSE(t->exhausted());
}

// A writer that died after claiming a number and writing the first word of
// its slot, never publishing: reproduced by hand in the region, so these
// offsets mirror the layout in shared_name_table.cpp (the first assertion
// says when they no longer do).
TEST(SharedNameTable, AWriterThatDiedMidSlotLeavesItsSlotMappingToNothingUntilReused) {
  constexpr std::size_t kHeader = 512, kSlot = 520, kNext = 128;
  Table t(4);
  ASSERT_EQ(SharedNameTable::region_size(4), kHeader + 4 * kSlot + 8 * 8);
  for (const char* n : {"a.test", "b.test", "c.test", "d.test"}) v4_of(*t, n);
  ASSERT_EQ(name_at(*t, v4("240.0.0.1")), "a.test");
  auto word = [&](std::size_t offset) {
    return std::atomic_ref<std::uint64_t>(
        *reinterpret_cast<std::uint64_t*>(t.region.data() + offset));
  };
  // The dead writer: claimed number 4 (slot 0), wrote word 0 with tag 5.
  ASSERT_EQ(word(kNext).fetch_add(1), 4u);
  word(kHeader + 8).store(std::uint64_t{5} << 32 | 6);
  // a's slot is being reused: a's address fails closed, and so does 4's.
  EXPECT_EQ(name_at(*t, v4("240.0.0.1")), "(none)");
  EXPECT_EQ(name_at(*t, v4("240.0.0.5")), "(none)");
  std::array<std::uint8_t, 4> a{};
  EXPECT_FALSE(t->find_address("a.test", AF_INET, a));
  // Nobody waits for the dead writer: a gets a new number (5, evicting b).
  EXPECT_EQ(v4_of(*t, "a.test"), "240.0.0.6");
  EXPECT_EQ(name_at(*t, v4("240.0.0.6")), "a.test");
  EXPECT_EQ(name_at(*t, v4("240.0.0.2")), "(none)");
  EXPECT_EQ(name_at(*t, v4("240.0.0.3")), "c.test");
  // Slot 0 is reused by the next number that lands there (8).
  for (const char* n : {"e.test", "f.test", "g.test"}) v4_of(*t, n);
  EXPECT_EQ(name_at(*t, v4("240.0.0.9")), "g.test");
  EXPECT_EQ(v4_of(*t, "g.test"), "240.0.0.9");
  EXPECT_EQ(name_at(*t, v4("240.0.0.5")), "(none)");
  EXPECT_EQ(t->size(), 4u);
}

// Slots are mapped a window at a time (MADV_POPULATE_WRITE) as numbers
// advance: across several windows and a wrap every name still maps back, and
// the program's errno is untouched.
TEST(SharedNameTable, NamesAcrossSeveralMappedWindowsAndAWrapMapBackAndKeepErrno) {
  constexpr int kNames = 6000;  // 3 MiB of slots: three windows
  Table t(5000);
  std::vector<std::array<std::uint8_t, 4>> addrs(kNames);
  for (int i = 0; i < kNames; ++i) {
    errno = 4242;
    ASSERT_TRUE(t->address_for("w" + std::to_string(i) + ".test", AF_INET, addrs[i]));
    ASSERT_EQ(errno, 4242) << i;
  }
  for (int i = 0; i < kNames; ++i) {
    // The first 1000 were evicted by the wrap: nothing, never another name.
    EXPECT_EQ(name_at(*t, addrs[i]), i < 1000 ? "(none)" : "w" + std::to_string(i) + ".test");
  }
}

// Batches (64 Ki names: up to 64 numbers a claim). Two attachments of one
// region stand for two processes: each has its own batch.
std::uint32_t number_for(SharedNameTable& t, const std::string& name) {
  std::array<std::uint8_t, 4> a{};
  EXPECT_TRUE(t.address_for(name, AF_INET, a)) << name;
  return number_of(a);
}

TEST(SharedNameTable, BatchedClaimsDoubleUpTo64AndEveryNameGetsItsOwnNumber) {
  Table t(65536);
  auto b = SharedNameTable::attach(t.region.span());
  ASSERT_TRUE(b);
  // Batch sizes 1, 2, 4, ...: a process that resolves one name claims one.
  EXPECT_EQ(number_for(*t, "a0.test"), 0u);
  EXPECT_EQ(number_for(*b, "b0.test"), 1u);
  EXPECT_EQ(number_for(*t, "a1.test"), 2u);  // a's batch: 2, 3
  EXPECT_EQ(number_for(*b, "b1.test"), 4u);  // b's batch: 4, 5
  EXPECT_EQ(number_for(*t, "a2.test"), 3u);
  EXPECT_EQ(number_for(*b, "b2.test"), 5u);
  EXPECT_EQ(number_for(*t, "a3.test"), 6u);  // a's batch: 6 .. 9
  std::set<std::uint32_t> numbers = {0, 1, 2, 3, 4, 5, 6};
  constexpr int kNames = 3000;
  std::uint32_t last = 6;
  int jumps = 0;
  for (int i = 0; i < kNames; ++i) {
    SharedNameTable& who = i % 2 == 0 ? *b : *t;
    const std::string name = "n" + std::to_string(i) + ".test";
    const std::uint32_t n = number_for(who, name);
    EXPECT_TRUE(numbers.insert(n).second) << name << " got a number already handed out: " << n;
    EXPECT_EQ(name_at(*t, address_of_number(n)), name);
    EXPECT_EQ(name_at(*b, address_of_number(n)), name);
    // One claim per name would interleave t's and b's numbers: every step a jump.
    if (i >= 2000 && i % 2 == 1 && n - last != 1) ++jumps;
    if (i % 2 == 1) last = n;
  }
  EXPECT_LE(jumps, 500 / 64 + 1);  // runs of 64
  // Unused numbers: at most what is left in the two batches (64 each).
  EXPECT_LT(*numbers.rbegin(), static_cast<std::uint32_t>(kNames + 7 + 2 * 64));
  EXPECT_EQ(number_for(*t, "a0.test"), 0u);  // found, from either table
  EXPECT_EQ(number_for(*b, "a3.test"), 6u);
}

TEST(SharedNameTable, BatchedClaimsAcrossAWrapEvictByNumber) {
  constexpr std::size_t kCapacity = 65536;
  Table t(kCapacity);
  auto b = SharedNameTable::attach(t.region.span());
  ASSERT_TRUE(b);
  constexpr int kNames = 70000;
  std::vector<std::uint32_t> got(kNames);
  std::set<std::uint32_t> numbers;
  for (int i = 0; i < kNames; ++i) {
    got[i] = number_for(i % 2 == 0 ? *t : *b, "w" + std::to_string(i) + ".test");
    ASSERT_TRUE(numbers.insert(got[i]).second) << i;
  }
  const std::uint32_t top = *numbers.rbegin();
  for (int i = 0; i < kNames; i += 7) {
    const std::string name = name_at(*t, address_of_number(got[i]));
    if (got[i] + kCapacity > top) {
      EXPECT_EQ(name, "w" + std::to_string(i) + ".test") << i;
    } else if (numbers.count(got[i] + kCapacity) != 0) {
      EXPECT_EQ(name, "(none)") << i;  // its slot went to a newer name
    }  // else its successor sits unused in a batch: it may still map back
  }
  EXPECT_EQ(t->unindexed(), 0u);
}

TEST(SharedNameTable, AnAgedBatchIsDroppedSoANewAddressKeepsHalfTheWindow) {
  constexpr std::size_t kCapacity = 65536;
  Table t(kCapacity);
  auto b = SharedNameTable::attach(t.region.span());
  ASSERT_TRUE(b);
  // 1 + 2 + 4 + ... + 32 + 1 names: t holds 63 unused numbers of a batch of 64.
  for (int i = 0; i < 64; ++i) number_for(*t, "t" + std::to_string(i) + ".test");
  std::uint32_t last = 0;
  for (int i = 0; i < 40000; ++i) last = number_for(*b, "b" + std::to_string(i) + ".test");
  const std::uint32_t late = number_for(*t, "late.test");
  EXPECT_GT(late, last);  // not 64: that one would be forgotten within 25,536 names
  EXPECT_EQ(name_at(*b, address_of_number(late)), "late.test");
}

TEST(SharedNameTable, AForkedChildsCopyOfTheBatchNeverGivesANumberToTwoNames) {
  Table t(65536);
  // 1 + 2 + ... + 32 + 1 names: t's batch holds 64 .. 126, more than the
  // 8 rounds an insert tries before it gives up.
  for (int i = 0; i < 64; ++i) number_for(*t, "p" + std::to_string(i) + ".test");
  constexpr int kNames = 100;
  Region results(sizeof(std::uint32_t) * kNames);
  auto* got = reinterpret_cast<std::uint32_t*>(results.data());
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child uses the parent's object as fork left it: the same batch.
    for (int i = 0; i < kNames; ++i) {
      std::array<std::uint8_t, 4> a{};
      if (!t->address_for("child" + std::to_string(i) + ".test", AF_INET, a)) _exit(3);
      got[i] = number_of(a);
    }
    _exit(0);
  }
  ASSERT_TRUE(wait_exit_ok(pid, std::chrono::seconds(30)));
  std::set<std::uint32_t> numbers(got, got + kNames);
  ASSERT_EQ(numbers.size(), static_cast<std::size_t>(kNames));
  EXPECT_EQ(numbers.count(64), 1u);  // the child took the batch's next number first
  for (int i = 0; i < kNames; ++i) {
    const std::string name = "parent" + std::to_string(i) + ".test";
    std::array<std::uint8_t, 4> a{};
    ASSERT_TRUE(t->address_for(name, AF_INET, a)) << name;  // the copy lost, claims afresh
    EXPECT_TRUE(numbers.insert(number_of(a)).second) << name << " got a child's number";
    EXPECT_EQ(name_at(*t, a), name);
  }
  for (int i = 0; i < kNames; ++i) {
    EXPECT_EQ(name_at(*t, address_of_number(got[i])), "child" + std::to_string(i) + ".test");
  }
}

TEST(SharedNameTable, BatchedClaimsUseEveryAddressOfAUsedUpRangeOnce) {
  const Cidr small = cidr(AF_INET, "240.0.0.0", 16);
  Table t(65536, small, Cidr{});
  ASSERT_TRUE(t.table);
  const std::uint64_t count = t->address_count();
  ASSERT_GE(t->capacity(), 64u * 1024 - 2);  // batches of up to 63
  auto b = SharedNameTable::attach(t.region.span());
  ASSERT_TRUE(b);
  std::set<std::uint32_t> numbers;
  bool t_done = false, b_done = false;
  for (int i = 0; i < 70000 && !(t_done && b_done); ++i) {
    SharedNameTable& who = i % 2 == 0 ? *t : *b;
    bool& done = i % 2 == 0 ? t_done : b_done;
    if (done) continue;
    std::array<std::uint8_t, 4> a{};
    if (!who.address_for("x" + std::to_string(i) + ".test", AF_INET, a)) {
      EXPECT_TRUE(who.exhausted());
      done = true;
      continue;
    }
    EXPECT_TRUE(numbers.insert(number_of(a)).second) << i;
  }
  EXPECT_TRUE(t_done && b_done);
  EXPECT_EQ(numbers.size(), count);  // none lost at the end: each batch was used up
  EXPECT_LT(*numbers.rbegin(), count);
}

TEST(SharedNameTable, NotesAreSharedAcrossProcessesAndBounded) {
  Table t(100);
  EXPECT_EQ(t->note(42), 0u);
  EXPECT_FALSE(t->set_note(42, 0));  // 0 is "nothing noted"
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto mine = SharedNameTable::attach(t.region.span());
    _exit(mine && mine->set_note(42, 2) && mine->set_note(43, 1) ? 0 : 2);
  }
  ASSERT_TRUE(wait_exit_ok(pid, std::chrono::seconds(10)));
  EXPECT_EQ(t->note(42), 2u);
  EXPECT_EQ(t->note(43), 1u);
  EXPECT_EQ(t->note(44), 0u);
  // Only the low 56 bits are the key.
  EXPECT_EQ(t->note((std::uint64_t{0xab} << 56) | 42), 2u);
  // A key's value can change; the table holds kNotes keys, then refuses new ones.
  EXPECT_TRUE(t->set_note(42, 1));
  EXPECT_EQ(t->note(42), 1u);
  for (std::uint64_t k = 1000; k < 1000 + SharedNameTable::kNotes - 2; ++k) {
    ASSERT_TRUE(t->set_note(k, 3)) << k;
  }
  EXPECT_FALSE(t->set_note(7, 1));
  EXPECT_EQ(t->note(7), 0u);
  EXPECT_EQ(t->note(42), 1u);
  EXPECT_EQ(t->note(1000 + SharedNameTable::kNotes - 3), 3u);
  EXPECT_TRUE(t->set_note(43, 2));  // a held key still updates when full
  EXPECT_EQ(t->note(43), 2u);
  // Notes are not names: the name side is untouched.
  EXPECT_EQ(t->size(), 0u);
  EXPECT_EQ(v4_of(*t, "a.test"), "240.0.0.1");
}

// The stub's source is the same NameTableSource as over the per-process table.
TEST(SharedNameTableSource, AnswersAsOverThePerProcessTable) {
  Table t(100, kV4, Cidr{});
  dns::NameTableSource source(*t);
  std::array<std::uint8_t, 4> a4{};
  std::array<std::uint8_t, 16> a6{};
  using S = dns::AddressSource::Status;
  EXPECT_EQ(source.address_for("Web.Test", AF_INET, a4), S::Found);
  EXPECT_EQ(text_of(a4), "240.0.0.1");
  EXPECT_EQ(source.address_for("web.test", AF_INET6, a6), S::NoAddress);
  EXPECT_EQ(source.address_for("web.test", AF_UNIX, a4), S::Unavailable);
  std::array<char, 255> name{};
  std::size_t size = 0;
  EXPECT_EQ(source.name_for(a4, name, &size), S::Found);
  EXPECT_EQ(std::string_view(name.data(), size), "web.test");
  EXPECT_EQ(source.name_for(v4("10.0.0.1"), name, &size), S::NotFake);
  EXPECT_EQ(source.name_for(v4("240.0.0.2"), name, &size), S::NoName);
  std::array<char, 3> tiny{};
  EXPECT_EQ(source.name_for(a4, tiny, &size), S::Unavailable);
}

// The DNS stub over the shared table: a query a forked child answers gives an
// address the parent maps back to the name.
TEST(SharedNameTableSource, AStubAnswerInOneProcessMapsBackInAnother) {
  Table t(100);
  Region out(4096);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto mine = SharedNameTable::attach(t.region.span());
    if (!mine) _exit(2);
    dns::NameTableSource source(*mine);
    const auto q = dns::testing::query("Stub.Test", 1);  // A
    const auto r =
        dns::answer_udp(dns::testing::as_bytes(q), source, {}, {out.data() + 8, 4096 - 8});
    if (r.action != dns::StubAction::Reply || r.rcode != dns::Rcode::NoError) _exit(3);
    std::memcpy(out.data(), &r.size, sizeof(std::uint32_t));
    _exit(0);
  }
  ASSERT_TRUE(wait_exit_ok(pid, std::chrono::seconds(10)));
  std::uint32_t size = 0;
  std::memcpy(&size, out.data(), sizeof size);
  ASSERT_GE(size, 16u);
  // No EDNS in the query, so the A record's 4 bytes of RDATA end the response.
  std::array<std::uint8_t, 4> a{};
  std::memcpy(a.data(), out.data() + 8 + size - 4, 4);
  EXPECT_EQ(text_of(a), "240.0.0.1");
  EXPECT_EQ(name_at(*t, a), "stub.test");
}

}  // namespace
}  // namespace socksify
