#include "dns/tree_table_ref.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "dns/shared_name_table.hpp"
#include "test_cidr.hpp"

namespace socksify {
namespace {

using ::socksify::testing::cidr;

TEST(TreeTableRef, FormatsAndParsesBack) {
  EXPECT_EQ(format_tree_table_ref({4242, 7}), "/proc/4242/fd/7");
  EXPECT_EQ(parse_tree_table_ref("/proc/4242/fd/7"), (TreeTableRef{4242, 7}));
  EXPECT_EQ(parse_tree_table_ref("/proc/1/fd/0"), (TreeTableRef{1, 0}));
  EXPECT_EQ(parse_tree_table_ref("/proc/2147483647/fd/2147483647"),
            (TreeTableRef{2147483647, 2147483647}));
  const TreeTableRef ref{99999, 1023};
  EXPECT_EQ(parse_tree_table_ref(format_tree_table_ref(ref)), ref);
}

TEST(TreeTableRef, RefusesAnythingButTheExactForm) {
  for (const char* bad : {"",
                          "/proc/",
                          "/proc/12/fd/",
                          "/proc//fd/3",
                          "/proc/0/fd/3",
                          "/proc/-1/fd/3",
                          "/proc/+1/fd/3",
                          "/proc/01/fd/3",
                          "/proc/1/fd/03",
                          "/proc/1/fd/-3",
                          "/proc/self/fd/3",
                          "/proc/1/fd/3/",
                          "/proc/1/fd/3 ",
                          " /proc/1/fd/3",
                          "/proc/1/fdx/3",
                          "proc/1/fd/3",
                          "/tmp/1/fd/3",
                          "/proc/1/fd/3x",
                          "/proc/2147483648/fd/3",
                          "/proc/1/fd/2147483648",
                          "/proc/99999999999/fd/3",
                          "/proc/1/fd/3/fd/4",
                          "/proc/1/../fd/3"}) {
    EXPECT_FALSE(parse_tree_table_ref(bad)) << bad;
  }
}

TEST(TreeTableRef, PlausibleRegionSizesSpanTheSmallestToTheLargestTable) {
  EXPECT_FALSE(plausible_region_size(0));
  EXPECT_FALSE(plausible_region_size(-1));
  EXPECT_FALSE(
      plausible_region_size(static_cast<std::int64_t>(SharedNameTable::region_size(1)) - 1));
  EXPECT_TRUE(plausible_region_size(static_cast<std::int64_t>(SharedNameTable::region_size(1))));
  EXPECT_TRUE(
      plausible_region_size(static_cast<std::int64_t>(SharedNameTable::region_size(1 << 16))));
  const auto largest =
      static_cast<std::int64_t>(SharedNameTable::region_size(SharedNameTable::kMaxCapacity));
  EXPECT_TRUE(plausible_region_size(largest));
  EXPECT_FALSE(plausible_region_size(largest + 1));
}

TEST(TreeTableRef, ATableServesOnlyTheRangesItWasCreatedWith) {
  const Cidr v4 = cidr(AF_INET, "240.0.0.0", 4);
  const Cidr v6 = cidr(AF_INET6, "100::", 64);
  const std::size_t size = SharedNameTable::region_size(16);
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  auto t = SharedNameTable::create(std::span(static_cast<std::byte*>(p), size), v4, v6, 16);
  ASSERT_TRUE(t);
  EXPECT_EQ(tree_table_mismatch(*t, v4, v6), "");
  // Host bits in the configuration are ignored, as the table ignores them.
  EXPECT_EQ(tree_table_mismatch(*t, cidr(AF_INET, "240.1.2.3", 4), v6), "");
  EXPECT_NE(tree_table_mismatch(*t, cidr(AF_INET, "10.0.0.0", 8), v6), "");
  EXPECT_NE(tree_table_mismatch(*t, cidr(AF_INET, "240.0.0.0", 5), v6), "");
  EXPECT_NE(tree_table_mismatch(*t, v4, cidr(AF_INET6, "200::", 64)), "");
  EXPECT_NE(tree_table_mismatch(*t, v4, Cidr{}), "");  // this process has no IPv6 range
  munmap(p, size);
}

}  // namespace
}  // namespace socksify
