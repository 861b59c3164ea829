#include "core/udp_drop_wait.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "core/real.hpp"

namespace socksify {

DropWait::DropWait(int fd, int flags) : fd_(fd), flags_(flags) {
  clock_gettime(CLOCK_MONOTONIC, &start_);
}

Result<int> DropWait::after_drop() {
  if (mode_ == Mode::Unknown) classify();
  switch (mode_) {
    case Mode::NonBlocking:
      if (++drops_ > kMaxDrops) return Errno{EAGAIN};
      return flags_ | MSG_DONTWAIT;
    case Mode::Forever:
      return flags_;
    default:
      return wait_readable();
  }
}

Result<int> DropWait::wait_readable() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  timespec left{deadline_.tv_sec - now.tv_sec, deadline_.tv_nsec - now.tv_nsec};
  if (left.tv_nsec < 0) {
    left.tv_sec -= 1;
    left.tv_nsec += 1'000'000'000L;
  }
  if (left.tv_sec < 0 || (left.tv_sec == 0 && left.tv_nsec == 0)) return Errno{EAGAIN};
  pollfd p{fd_, POLLIN, 0};
  const int r = REAL(ppoll)(&p, 1, &left, nullptr);
  if (r < 0) return Errno{errno};  // EINTR: what the kernel's timed receive says
  if (r == 0) return Errno{EAGAIN};
  return flags_ | MSG_DONTWAIT;
}

void DropWait::classify() {
  const int fl = (flags_ & MSG_DONTWAIT) ? 0 : REAL(fcntl)(fd_, F_GETFL);
  if ((flags_ & MSG_DONTWAIT) || (fl >= 0 && (fl & O_NONBLOCK))) {
    mode_ = Mode::NonBlocking;
    return;
  }
  timeval tv{};
  socklen_t len = sizeof tv;
  if (REAL(getsockopt)(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) != 0 ||
      (tv.tv_sec == 0 && tv.tv_usec == 0)) {
    mode_ = Mode::Forever;
    return;
  }
  mode_ = Mode::Timed;
  deadline_ = start_;
  deadline_.tv_sec += tv.tv_sec;
  deadline_.tv_nsec += static_cast<long>(tv.tv_usec) * 1000;
  if (deadline_.tv_nsec >= 1'000'000'000L) {
    deadline_.tv_sec += 1;
    deadline_.tv_nsec -= 1'000'000'000L;
  }
}

}  // namespace socksify
