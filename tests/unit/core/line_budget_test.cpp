#include "core/line_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace socksify {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1000 * kSecond;  // an arbitrary monotonic clock reading

int allowed(LineBudget& budget, int lines, std::int64_t now) {
  int n = 0;
  for (int i = 0; i < lines; ++i) n += budget.take(now) ? 1 : 0;
  return n;
}

TEST(LineBudget, ABurstPassesThenTheRestAreCounted) {
  LineBudget budget(10, kSecond);
  EXPECT_EQ(allowed(budget, 100, kStart), 10);
  EXPECT_EQ(budget.take_suppressed(), 90u);
  EXPECT_EQ(budget.take_suppressed(), 0u);  // reported once
}

TEST(LineBudget, RefillsOneLinePerInterval) {
  LineBudget budget(10, kSecond);
  ASSERT_EQ(allowed(budget, 10, kStart), 10);
  EXPECT_EQ(allowed(budget, 5, kStart + kSecond / 2), 0);
  EXPECT_EQ(allowed(budget, 5, kStart + kSecond), 1);
  EXPECT_EQ(allowed(budget, 5, kStart + 3 * kSecond), 2);
  EXPECT_EQ(budget.take_suppressed(), 12u);
}

TEST(LineBudget, AQuietSpellRestoresTheWholeBurstAndNoMore) {
  LineBudget budget(10, kSecond);
  ASSERT_EQ(allowed(budget, 10, kStart), 10);
  EXPECT_EQ(allowed(budget, 100, kStart + 3600 * kSecond), 10);
}

TEST(LineBudget, AnOccasionalLineIsNeverRefused) {
  LineBudget budget(10, kSecond);
  for (int minute = 0; minute < 100; ++minute) {
    EXPECT_TRUE(budget.take(kStart + minute * 60 * kSecond)) << minute;
  }
  EXPECT_EQ(budget.take_suppressed(), 0u);
}

TEST(LineBudget, ThreadsTogetherGetExactlyTheBurst) {
  LineBudget budget(10, kSecond);
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] { total += allowed(budget, 1000, kStart); });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(total.load(), 10);
  EXPECT_EQ(budget.take_suppressed(), 8u * 1000 - 10);
}

}  // namespace
}  // namespace socksify
