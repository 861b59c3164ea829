// DropWait: how a receive on a UDP socket through the relay goes on after a
// datagram the kernel gave it was dropped (not the relay's, a fragment, ...):
// as the kernel's receive would have gone on had that datagram never come, so
// that the program's wait never starts over (issue 14 item 7: a 1 s
// SO_RCVTIMEO lasted 10.9 s under a flood of strays; a blocking recvfrom after
// select() said readable hung on one).
//  - Non-blocking (O_NONBLOCK or MSG_DONTWAIT): the next datagram if one is
//    queued, else EAGAIN, also for the program that polled first and was told
//    "readable" by the dropped one. At most kMaxDrops are drained per call, so
//    a flood cannot hold a non-blocking call.
//  - Blocking with SO_RCVTIMEO: waits only for what is left of that timeout,
//    counted from the call's start (ppoll, then a receive that cannot block),
//    then EAGAIN, as the kernel ends it; a signal ends it with EINTR, as the
//    kernel's does on a socket with a timeout.
//  - Blocking without a timeout: waits on, as the program asked: it waits for
//    a datagram, and the dropped one was none. (After a select() that saw
//    only a stray this blocks where the kernel would have returned it; EAGAIN
//    instead is an answer such programs never get from a blocking socket and
//    often treat as fatal, so any stray could end them. A program that wants
//    its receive bounded sets SO_RCVTIMEO or uses MSG_DONTWAIT.)
// The mode is looked up only after the first drop: a call that drops nothing
// costs one clock read.
#pragma once

#include <time.h>

#include <cstdint>

#include "base/result.hpp"

namespace socksify {

class DropWait {
 public:
  static constexpr int kMaxDrops = 64;

  // At the start of a receive on fd with the program's flags.
  DropWait(int fd, int flags);

  // After a drop: the flags for the next receive, or the errno that ends it.
  // Not noexcept: it may wait in ppoll, a cancellation point.
  Result<int> after_drop();

  // A receive made with after_drop()'s flags found nothing (another thread
  // took the datagram): true when the call should wait again (wait_readable).
  bool waits_again() const { return mode_ == Mode::Timed; }

  // Blocking with a timeout: until the socket is readable (the flags for a
  // receive that cannot block) or the timeout, counted from the call's start,
  // is over (EAGAIN).
  Result<int> wait_readable();

 private:
  enum class Mode : std::uint8_t { Unknown, NonBlocking, Forever, Timed };
  void classify();

  int fd_;
  int flags_;
  Mode mode_ = Mode::Unknown;
  int drops_ = 0;
  timespec start_{};
  timespec deadline_{};
};

}  // namespace socksify
