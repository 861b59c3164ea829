#include "supervisor/target_memory.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace socksify::supervisor {
namespace {

// The first line of `path` starting with `key`, its value parsed as a number.
std::optional<long> proc_field(const char* path, const char* key, int base) noexcept {
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return std::nullopt;
  char line[256];
  std::optional<long> out;
  const std::size_t key_len = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, key_len) == 0) {
      char* end = nullptr;
      const long v = std::strtol(line + key_len, &end, base);
      if (end != line + key_len) out = v;
      break;
    }
  }
  std::fclose(f);
  return out;
}

}  // namespace

Status read_memory(pid_t tid, std::uint64_t address, std::span<std::byte> out) noexcept {
  if (out.empty()) return {};
  iovec local{out.data(), out.size()};
  iovec remote{reinterpret_cast<void*>(address), out.size()};
  const ssize_t n = ::process_vm_readv(tid, &local, 1, &remote, 1, 0);
  if (n < 0) return Errno{errno == ESRCH ? ESRCH : EFAULT};
  if (static_cast<std::size_t>(n) != out.size()) return Errno{EFAULT};
  return {};
}

Status write_memory(pid_t tid, std::uint64_t address, std::span<const std::byte> in) noexcept {
  if (in.empty()) return {};
  iovec local{const_cast<std::byte*>(in.data()), in.size()};
  iovec remote{reinterpret_cast<void*>(address), in.size()};
  const ssize_t n = ::process_vm_writev(tid, &local, 1, &remote, 1, 0);
  if (n < 0) return Errno{errno == ESRCH ? ESRCH : EFAULT};
  if (static_cast<std::size_t>(n) != in.size()) return Errno{EFAULT};
  return {};
}

std::optional<pid_t> process_of(pid_t tid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
  const auto tgid = proc_field(path, "Tgid:", 10);
  if (!tgid || *tgid <= 0) return std::nullopt;
  return static_cast<pid_t>(*tgid);
}

OwnedFd& OwnedFd::operator=(OwnedFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

// A pidfd for the thread itself (Linux 6.9, PIDFD_THREAD): pidfd_getfd then
// reaches the descriptor table its process shares, with no /proc read to find
// the thread group leader first. Older kernels say EINVAL: the leader's pidfd.
OwnedFd pidfd_of(pid_t tid) noexcept {
  constexpr unsigned kPidfdThread = O_EXCL;  // linux/pidfd.h, not in every libc's headers
  static std::atomic<bool> thread_pidfds{true};
  if (thread_pidfds.load(std::memory_order_relaxed)) {
    OwnedFd fd(static_cast<int>(::syscall(SYS_pidfd_open, tid, kPidfdThread)));
    if (fd || errno != EINVAL) return fd;
    thread_pidfds.store(false, std::memory_order_relaxed);
  }
  const auto pid = process_of(tid);
  if (!pid) return OwnedFd();
  return OwnedFd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
}

Result<OwnedFd> copy_descriptor(pid_t tid, int fd) noexcept {
  OwnedFd pidfd = pidfd_of(tid);
  if (!pidfd) return Errno{ESRCH};
  const long copy = ::syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0);
  if (copy < 0) return Errno{errno == EBADF ? EBADF : ESRCH};
  return OwnedFd(static_cast<int>(copy));  // pidfd_getfd sets close-on-exec
}

bool close_on_exec(pid_t tid, int fd) noexcept {
  // /proc/TID/ names any thread (not only a leader), and every thread of the
  // process shares its descriptor table: no look-up of the process first.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", static_cast<int>(tid), fd);
  const int f = ::open(path, O_RDONLY | O_CLOEXEC);
  if (f < 0) return false;
  char text[512];  // "pos:", "flags:" come first
  const ssize_t n = ::read(f, text, sizeof text - 1);
  ::close(f);
  if (n <= 0) return false;
  text[n] = '\0';
  const char* at = std::strstr(text, "flags:");
  if (at == nullptr) return false;
  char* end = nullptr;
  const long flags = std::strtol(at + 6, &end, 8);  // octal
  return end != at + 6 && (flags & O_CLOEXEC) != 0;
}

}  // namespace socksify::supervisor
