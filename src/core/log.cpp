#include "core/log.hpp"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "base/named.hpp"
#include "core/errno_saver.hpp"
#include "core/line_budget.hpp"
#include "core/real.hpp"

namespace socksify {

namespace log {
namespace {
std::atomic<LogLevel> g_level{LogLevel::Warn};
std::atomic<int> g_fd{2};
// 10 lines at once, then one a second; -d (debug) lifts the limit.
constinit LineBudget g_budget{10, 1'000'000'000};

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO: no syscall, async-signal-safe
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Quiet has no lines, so no name.
constexpr Named<LogLevel> kLevelNames[] = {
    {LogLevel::Error, "error"},
    {LogLevel::Warn, "warning"},
    {LogLevel::Info, "info"},
    {LogLevel::Debug, "debug"},
};

std::string_view level_name(LogLevel l) {
  return name_of(kLevelNames, l);
}

// Which file the log descriptor was when it was chosen. A daemon that closes
// stderr and then opens a socket gets that socket as fd 2: a line written there
// would go into the program's own connection (or pipe, or data file). Lines go
// out only while the descriptor is still the file it was when chosen, or a
// character device: a terminal or /dev/null, where a daemon points stderr.
std::atomic<std::uint64_t> g_fd_dev{0};
std::atomic<std::uint64_t> g_fd_ino{0};
std::atomic<bool> g_fd_known{false};

void remember_file(int fd) {
  struct stat st {};
  const bool known = ::fstat(fd, &st) == 0;
  g_fd_dev.store(known ? st.st_dev : 0, std::memory_order_relaxed);
  g_fd_ino.store(known ? st.st_ino : 0, std::memory_order_relaxed);
  g_fd_known.store(known, std::memory_order_relaxed);
}

bool still_safe_to_write(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;  // closed since: nowhere to write
  if (S_ISCHR(st.st_mode)) return true;
  return g_fd_known.load(std::memory_order_relaxed) &&
         st.st_dev == g_fd_dev.load(std::memory_order_relaxed) &&
         st.st_ino == g_fd_ino.load(std::memory_order_relaxed);
}

// stderr as the process started, before any of its code could replace it
// (priority: before the library's own constructor, which may log).
__attribute__((constructor(101))) void remember_stderr() {
  remember_file(2);
}

void write_all(const char* buf, std::size_t n) {
  const int fd = g_fd.load(std::memory_order_relaxed);
  if (!still_safe_to_write(fd)) return;
  std::size_t off = 0;
  while (off < n) {
    ssize_t w = REAL(write)(fd, buf + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += static_cast<std::size_t>(w);
  }
}

}  // namespace

void set_level(LogLevel l) {
  g_level.store(l, std::memory_order_relaxed);
}
LogLevel level() {
  return g_level.load(std::memory_order_relaxed);
}
void set_fd(int fd) {
  remember_file(fd);
  g_fd.store(fd, std::memory_order_relaxed);
}

void vemit(LogLevel l, fmt::string_view format, fmt::format_args args) {
  ErrnoSaver keep_errno;
  char buf[1024];
  constexpr std::size_t kRoom = sizeof buf - 1;  // for the newline
  std::size_t n = 0;
  std::uint64_t suppressed = 0;
  if (level() != LogLevel::Debug) {
    if (!g_budget.take(now_ns())) return;
    suppressed = g_budget.take_suppressed();
  }
  try {
    auto r = fmt::format_to_n(buf, kRoom, "socksify[{}]: {}: ", ::getpid(), level_name(l));
    n = std::min(r.size, kRoom);
    auto body = fmt::vformat_to_n(buf + n, kRoom - n, format, args);
    n += std::min(body.size, kRoom - n);
    if (suppressed != 0) {
      auto note = fmt::format_to_n(buf + n, kRoom - n,
                                   " ({} earlier socksify lines not shown: "
                                   "at most 10 at once, then one a second)",
                                   suppressed);
      n += std::min(note.size, kRoom - n);
    }
  } catch (...) {
    // A bad format argument must not take the host program down: say so instead.
    constexpr std::string_view kBad = "socksify: (unformattable log line)";
    n = kBad.copy(buf, kRoom);
  }
  buf[n++] = '\n';
  write_all(buf, n);
}

void write_line(std::string_view line) {
  ErrnoSaver keep_errno;
  char buf[2048];
  const std::size_t n = line.copy(buf, sizeof buf - 1);
  buf[n] = '\n';
  write_all(buf, n + 1);
}

std::string_view errno_name(int e) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  // glibc's own table: every errno it knows, no allocation, async-signal-safe.
  // An alias gets its primary name (EWOULDBLOCK is "EAGAIN").
  if (const char* name = ::strerrorname_np(e); name != nullptr) return name;
#else
  // Without strerrorname_np: the names socksify itself returns.
  switch (e) {
#define SOCKSIFY_ERRNO(name) \
  case name:                 \
    return #name;
    SOCKSIFY_ERRNO(ECONNREFUSED)
    SOCKSIFY_ERRNO(ECONNRESET)
    SOCKSIFY_ERRNO(ECONNABORTED)
    SOCKSIFY_ERRNO(ETIMEDOUT)
    SOCKSIFY_ERRNO(EHOSTUNREACH)
    SOCKSIFY_ERRNO(ENETUNREACH)
    SOCKSIFY_ERRNO(EACCES)
    SOCKSIFY_ERRNO(EPROTO)
    SOCKSIFY_ERRNO(EOPNOTSUPP)
    SOCKSIFY_ERRNO(EAFNOSUPPORT)
    SOCKSIFY_ERRNO(EINVAL)
    SOCKSIFY_ERRNO(ENOMEM)
    SOCKSIFY_ERRNO(ENOBUFS)
    SOCKSIFY_ERRNO(EMFILE)
    SOCKSIFY_ERRNO(ENFILE)
    SOCKSIFY_ERRNO(EPIPE)
    SOCKSIFY_ERRNO(EADDRNOTAVAIL)
    SOCKSIFY_ERRNO(EADDRINUSE)
    SOCKSIFY_ERRNO(ENOTCONN)
    SOCKSIFY_ERRNO(EISCONN)
    SOCKSIFY_ERRNO(EMSGSIZE)
    SOCKSIFY_ERRNO(EAGAIN)
    SOCKSIFY_ERRNO(EINTR)
    SOCKSIFY_ERRNO(EINPROGRESS)
    SOCKSIFY_ERRNO(EALREADY)
    SOCKSIFY_ERRNO(EBADF)
    SOCKSIFY_ERRNO(ENOTSOCK)
    SOCKSIFY_ERRNO(ENETDOWN)
    SOCKSIFY_ERRNO(EPERM)
    SOCKSIFY_ERRNO(ENOENT)
    SOCKSIFY_ERRNO(ECANCELED)
#undef SOCKSIFY_ERRNO
    default:
      break;
  }
#endif
  return "unknown errno";  // no errno the kernel returns
}

}  // namespace log
}  // namespace socksify
