// The supervisor's receive loop: a pool of persistent threads, each waiting
// on the listener itself (SECCOMP_IOCTL_NOTIF_RECV hands each notification to
// exactly one waiter) and answering what it took on the spot, so a trapped
// call costs no thread start and no hand-off between threads. A connect
// through the proxy takes a round trip or more: 100 goroutines connecting at
// once must not queue behind each other, so when the last idle receiver takes
// a call another one is started, up to kMaxThreads; past that the programs'
// calls wait in the kernel until a receiver is free. Threads are never
// stopped (the supervisor exits with the program).
#pragma once

#include <mutex>

namespace socksify {
class Runtime;
}

namespace socksify::supervisor {

class NotifyLoop {
 public:
  static constexpr int kMaxThreads = 256;

  NotifyLoop(const Runtime& rt, int listener) : rt_(rt), listener_(listener) {}
  // Starts the first receiver. The listener stays open (and the program's
  // calls answered) until this process exits: then the kernel fails every
  // trapped call with ENOSYS, never running one unsupervised.
  void start();

 private:
  void receive();
  // Starts one more receiver when none is idle (under mu_).
  void add_receiver_if_needed();
  const Runtime& rt_;
  int listener_;
  std::mutex mu_;
  int threads_ = 0;
  int idle_ = 0;
};

}  // namespace socksify::supervisor
