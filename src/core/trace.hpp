// The -v trace: one line per connection, UDP association, BIND and name
// lookup (destination, rule, proxy chain, outcome, milliseconds), as text or
// one JSON object per line (log_format json), to stderr or log_file.
// Off by default, and then each call site costs one relaxed load and a branch.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/endpoint.hpp"
#include "config/proxy_spec.hpp"
#include "config/settings.hpp"

namespace socksify::trace {

inline constinit std::atomic<bool> g_on{false};
inline constinit std::atomic<bool> g_json{false};

inline bool on() {
  return g_on.load(std::memory_order_relaxed);
}
void configure(const Settings& s);

struct Event {
  std::string_view kind;          // "connect", "udp", "bind", "lookup"
  const Endpoint* dst = nullptr;  // or `name` for lookups
  std::string_view name;
  std::string_view rule;                      // the route line, "" when none matched
  std::string_view via;                       // "direct", "block", a group name, "default"
  std::span<const ProxySpec* const> proxies;  // the chain crossed, or the proxy that served/failed
  std::string_view outcome;                   // "ok", "EACCES", ...
  std::string_view detail;                    // the reason, the fake address, ...
  std::int64_t ms = -1;                       // -1: not timed
};

// Pure: the line (without newline), text or JSON. Passwords never appear
// (ProxySpec::display masks them).
void format_event(fmt::memory_buffer& out, const Event& e, bool json);

// Formats and writes the line (log::write_line).
void emit(const Event& e);

using Clock = std::chrono::steady_clock;
inline std::int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace socksify::trace
