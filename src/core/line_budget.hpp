// How many log lines a process may write: a burst, then a steady rate. A program
// that retries a failing connect() in a tight loop must not bury its own output
// under ours, and a daemon that fails once a minute still gets every line.
// Lock-free (one CAS on the hot path of a log line), no allocation, and the
// caller supplies the time, so it is usable from any thread and testable.
#pragma once

#include <atomic>
#include <cstdint>

namespace socksify {

class LineBudget {
 public:
  // Up to `burst` lines at once, refilled at one per `interval_ns`.
  constexpr LineBudget(std::int64_t burst, std::int64_t interval_ns)
      : burst_(burst), interval_ns_(interval_ns) {}

  // Whether a line may be written now. A refused line is counted.
  bool take(std::int64_t now_ns);

  // The lines refused since the last call, and zero from then on: the next
  // written line says how many it stands for.
  std::uint64_t take_suppressed() { return suppressed_.exchange(0, std::memory_order_relaxed); }

 private:
  const std::int64_t burst_;
  const std::int64_t interval_ns_;
  // The generic cell rate algorithm: the time at which the budget would be
  // full again. A line is allowed while that time is less than a burst ahead.
  std::atomic<std::int64_t> full_at_ns_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace socksify
