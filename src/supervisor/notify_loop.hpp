// The supervisor's receive loop: one thread waits on the listener, each
// notification is answered on a thread of its own (a connect through the
// proxy takes a round trip or more; 100 goroutines connecting at once must
// not queue behind each other), at most kMaxInFlight at a time: past that the
// receiver waits for one to finish, and the programs' calls wait in the kernel.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace socksify {
class Runtime;
}

namespace socksify::supervisor {

class NotifyLoop {
 public:
  static constexpr int kMaxInFlight = 256;

  NotifyLoop(const Runtime& rt, int listener) : rt_(rt), listener_(listener) {}
  // Starts the receiver thread. The listener stays open (and the program's
  // calls answered) until this process exits: then the kernel fails every
  // trapped call with ENOSYS, never running one unsupervised.
  void start();

 private:
  void receive();
  const Runtime& rt_;
  int listener_;
  std::mutex mu_;
  std::condition_variable slot_free_;
  int in_flight_ = 0;
};

}  // namespace socksify::supervisor
