#include "supervisor/target_memory.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

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

Status write_memory(pid_t tid, std::uint64_t address, std::span<const std::byte> in,
                    std::uint64_t address2, std::span<const std::byte> in2) noexcept {
  iovec local[2] = {{const_cast<std::byte*>(in.data()), in.size()},
                    {const_cast<std::byte*>(in2.data()), in2.size()}};
  iovec remote[2] = {{reinterpret_cast<void*>(address), in.size()},
                     {reinterpret_cast<void*>(address2), in2.size()}};
  const ssize_t n = ::process_vm_writev(tid, local, 2, remote, 2, 0);
  if (n < 0) return Errno{errno == ESRCH ? ESRCH : EFAULT};
  if (static_cast<std::size_t>(n) != in.size() + in2.size()) return Errno{EFAULT};
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
namespace {

std::atomic<bool> thread_pidfds{true};

OwnedFd pidfd_of(pid_t tid) noexcept {
  constexpr unsigned kPidfdThread = O_EXCL;  // linux/pidfd.h, not in every libc's headers
  if (thread_pidfds.load(std::memory_order_relaxed)) {
    OwnedFd fd(static_cast<int>(::syscall(SYS_pidfd_open, tid, kPidfdThread)));
    if (fd || errno != EINVAL) return fd;
    thread_pidfds.store(false, std::memory_order_relaxed);
  }
  const auto pid = process_of(tid);
  if (!pid) return OwnedFd();
  return OwnedFd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
}

// Thread pidfds kept between trapped calls: a connect is trapped twice (connect,
// then getpeername), and a program's connecting threads are few, so opening and
// closing a pidfd for each call was two syscalls of four. Safe to keep: a
// thread pidfd names one thread (its struct pid), never a later thread given
// the same id; once that thread is gone pidfd_getfd says ESRCH and a fresh
// pidfd is opened. Only thread pidfds are kept: the leader's pidfd of the
// fallback would be the wrong process's for a reused thread id. A pidfd is
// taken out while in use, so no other receiver closes it meanwhile.
class PidfdCache {
 public:
  static constexpr std::size_t kSlots = 32;
  OwnedFd take(pid_t tid) noexcept {
    std::lock_guard lock(mu_);
    for (Slot& s : slots_) {
      if (s.fd >= 0 && s.tid == tid) {
        const int fd = s.fd;
        s.fd = -1;
        return OwnedFd(fd);
      }
    }
    return OwnedFd();
  }
  void put(pid_t tid, OwnedFd fd) noexcept {
    int evicted = -1;
    {
      std::lock_guard lock(mu_);
      Slot* free_slot = nullptr;
      for (Slot& s : slots_) {
        if (s.fd < 0) {
          free_slot = &s;
          break;
        }
      }
      if (free_slot == nullptr) {  // full: round robin
        free_slot = &slots_[next_++ % kSlots];
        evicted = free_slot->fd;
      }
      free_slot->tid = tid;
      free_slot->fd = fd.release();
    }
    if (evicted >= 0) ::close(evicted);
  }

 private:
  struct Slot {
    pid_t tid = 0;
    int fd = -1;
  };
  std::mutex mu_;
  std::array<Slot, kSlots> slots_{};
  std::size_t next_ = 0;
};

PidfdCache& pidfd_cache() noexcept {
  static PidfdCache cache;  // never destroyed before the receivers: they never exit first
  return cache;
}

}  // namespace

Result<OwnedFd> copy_descriptor(pid_t tid, int fd) noexcept {
  if (OwnedFd kept = pidfd_cache().take(tid)) {
    const long copy = ::syscall(SYS_pidfd_getfd, kept.get(), fd, 0);
    if (copy >= 0 || errno == EBADF) {
      const int e = errno;
      pidfd_cache().put(tid, std::move(kept));
      if (copy < 0) return Errno{e};
      return OwnedFd(static_cast<int>(copy));  // pidfd_getfd sets close-on-exec
    }
    // ESRCH: the thread we kept it for is gone (the id may be a new thread's).
  }
  OwnedFd pidfd = pidfd_of(tid);
  if (!pidfd) return Errno{ESRCH};
  const long copy = ::syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0);
  if (copy < 0) return Errno{errno == EBADF ? EBADF : ESRCH};
  if (thread_pidfds.load(std::memory_order_relaxed)) pidfd_cache().put(tid, std::move(pidfd));
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
