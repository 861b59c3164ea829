// Reaching into a trapped process from the supervisor: its memory (the
// sockaddr and msghdr a call points at) and its descriptors. The notification
// names a thread (its tid in our pid namespace); pidfd_open takes it as is
// with PIDFD_THREAD (Linux 6.9), older kernels want the thread group leader,
// found through /proc/TID/status first.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/result.hpp"

namespace socksify::supervisor {

// Reads exactly out.size() bytes at `address` in thread `tid`'s memory;
// EFAULT when the range is not all mapped (what the kernel would have said).
Status read_memory(pid_t tid, std::uint64_t address, std::span<std::byte> out) noexcept;
Status write_memory(pid_t tid, std::uint64_t address, std::span<const std::byte> in) noexcept;
// Two writes in one process_vm_writev, in order: the second is not made when
// the first faults (EFAULT either way).
Status write_memory(pid_t tid, std::uint64_t address, std::span<const std::byte> in,
                    std::uint64_t address2, std::span<const std::byte> in2) noexcept;

template <class T>
Status read_object(pid_t tid, std::uint64_t address, T& out) noexcept {
  return read_memory(tid, address, std::as_writable_bytes(std::span(&out, 1)));
}

// The thread group (process) id of a thread; nullopt when it is gone.
std::optional<pid_t> process_of(pid_t tid) noexcept;

// Owns a descriptor of the supervisor's.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  OwnedFd(OwnedFd&& o) noexcept : fd_(o.release()) {}
  OwnedFd& operator=(OwnedFd&& o) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

// A copy (pidfd_getfd) of descriptor `fd` of the process `tid` belongs to:
// the same open file description, so its file status flags are the program's
// own (never change them through the copy). Errno: EBADF when the program has
// no such descriptor, ESRCH when it is gone.
Result<OwnedFd> copy_descriptor(pid_t tid, int fd) noexcept;

// Whether the program's descriptor `fd` is close-on-exec (a per-descriptor
// flag, not the file description's: /proc/PID/fdinfo tells).
bool close_on_exec(pid_t tid, int fd) noexcept;

}  // namespace socksify::supervisor
