#include "core/line_budget.hpp"

#include <algorithm>

namespace socksify {

bool LineBudget::take(std::int64_t now_ns) {
  std::int64_t full_at = full_at_ns_.load(std::memory_order_relaxed);
  while (true) {
    const std::int64_t start = std::max(full_at, now_ns);
    if (start - now_ns > (burst_ - 1) * interval_ns_) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (full_at_ns_.compare_exchange_weak(full_at, start + interval_ns_,
                                          std::memory_order_relaxed)) {
      return true;
    }
  }
}

}  // namespace socksify
