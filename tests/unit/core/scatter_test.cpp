#include "core/scatter.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>
#include <vector>

namespace socksify {
namespace {

// A scatter list over one flat buffer, cut at the given segment sizes, so
// that results can be compared with memmove on the flat copy.
struct Cut {
  std::vector<std::byte> flat;
  std::vector<iovec> iov;
  explicit Cut(const std::vector<std::size_t>& sizes) {
    flat.resize(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}));
    for (std::size_t i = 0; i < flat.size(); ++i) flat[i] = std::byte(i * 7 + 3);
    std::size_t off = 0;
    for (std::size_t n : sizes) {
      iov.push_back({flat.data() + off, n});
      off += n;
    }
  }
};

TEST(Scatter, SizeSumsSegmentsAndSaturates) {
  Cut c({3, 0, 5});
  EXPECT_EQ(scatter_size(c.iov), 8u);
  std::vector<iovec> huge = {{nullptr, SIZE_MAX - 1}, {nullptr, 5}};
  EXPECT_EQ(scatter_size(huge), SIZE_MAX);
}

TEST(Scatter, GatherReadsAcrossSegmentsAndStopsAtTheEnd) {
  Cut c({2, 0, 3, 1});
  std::byte out[10];
  EXPECT_EQ(scatter_gather(c.iov, 1, out), 5u);
  EXPECT_EQ(0, std::memcmp(out, c.flat.data() + 1, 5));
  EXPECT_EQ(scatter_gather(c.iov, 6, out), 0u);
}

TEST(Scatter, MoveMatchesMemmoveForEveryCutAndDirection) {
  std::mt19937 rng(1928);  // fixed seed: the same cases every run
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::size_t> sizes(1 + rng() % 6);
    for (auto& n : sizes) n = rng() % 9;  // zero-length segments included
    Cut c(sizes);
    if (c.flat.empty()) continue;
    const std::size_t total = c.flat.size();
    const std::size_t dst = rng() % total;
    const std::size_t src = rng() % total;
    const std::size_t len = rng() % (total + 2);  // sometimes past the end: clipped
    std::vector<std::byte> want = c.flat;
    const std::size_t clipped = std::min({len, total - dst, total - src});
    std::memmove(want.data() + dst, want.data() + src, clipped);
    scatter_move(c.iov, dst, src, len);
    ASSERT_EQ(c.flat, want) << "round " << round << " dst " << dst << " src " << src << " len "
                            << len;
  }
}

TEST(Scatter, IovArrayUsesTheHeapOnlyBeyondItsInlineSize) {
  IovArray small(IovArray::kInline);
  EXPECT_TRUE(small.ok());
  IovArray big(IovArray::kInline * 4);
  ASSERT_TRUE(big.ok());
  big[big.size() - 1] = {nullptr, 1};  // writable to the end
  EXPECT_EQ(big.size(), IovArray::kInline * 4);
}

}  // namespace
}  // namespace socksify
