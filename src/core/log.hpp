// Logging from inside a stranger's process: each line is formatted into a stack
// buffer and written with one write(2), so lines from threads never interleave,
// nothing allocates, and errno is left as it was.
// Lines look like "socksify[1234]: error: ...".
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string_view>

#include "base/log_level.hpp"

namespace socksify::log {

void set_level(LogLevel level);
LogLevel level();
// Where lines go; 2 (stderr) by default.
void set_fd(int fd);

// Set by a handshake worker to its job's cancel flag: a handshake the program
// abandoned (closed its socket) fails quietly, it is no error of the proxy's.
inline thread_local const std::atomic<bool>* t_quiet_if = nullptr;

inline bool enabled(LogLevel l) {
  if (t_quiet_if != nullptr && t_quiet_if->load(std::memory_order_relaxed)) return false;
  return l != LogLevel::Quiet && l <= level();
}

void vemit(LogLevel l, fmt::string_view format, fmt::format_args args);

// log::error(...), log::warn(...), log::info(...), log::debug(...): one line at
// that level, formatted only when the level is enabled.
template <LogLevel L>
struct At {
  template <class... Args>
  void operator()(fmt::format_string<Args...> f, Args&&... args) const {
    if (enabled(L)) vemit(L, f, fmt::make_format_args(args...));
  }
};
inline constexpr At<LogLevel::Error> error;
inline constexpr At<LogLevel::Warn> warn;
inline constexpr At<LogLevel::Info> info;
inline constexpr At<LogLevel::Debug> debug;

template <class... Args>
void log_at(LogLevel l, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(l)) vemit(l, f, fmt::make_format_args(args...));
}

// One whole line (a newline is added) to the log's descriptor with one
// write(2): no prefix, no level, no rate limit. For the -v trace, which the
// user asked for line by line.
void write_line(std::string_view line);

// "ECONNREFUSED" for logs (strerror text may be translated and is not greppable):
// every errno by its symbolic name, "unknown errno" for a number that has none.
std::string_view errno_name(int e);

}  // namespace socksify::log
