// Which sockets a supervised connect() is under way on, and which ones a
// tunnel of ours has taken the place of, by inode (unique among live sockets;
// sockfs numbers them from a counter, so a closed socket's number does not
// come back soon).
//
// The kernel runs one connect per socket at a time: a second one gets
// EALREADY while the first is under way and EISCONN once it has connected.
// A connect through the proxy runs in the supervisor instead, outside the
// kernel's socket lock, so without this a second thread's connect on the same
// socket would start a second session, and its failure would dissolve the
// first one's tunnel (or its tunnel be installed over the first's). A claim
// gives the second caller the kernel's answer and leaves the winner alone.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <deque>
#include <mutex>
#include <unordered_set>

namespace socksify::supervisor {

class ConnectClaims {
 public:
  // Swapped sockets remembered; past that the oldest are forgotten (a connect
  // on such an old socket, through a dup of the program's, then starts anew).
  static constexpr std::size_t kMaxSwapped = 65536;

  enum class State {
    Claimed,   // ours until release(): no connect of ours runs on it
    InFlight,  // another connect of ours runs on it: EALREADY
    Swapped,   // the program's descriptor now holds our tunnel: EISCONN
  };
  State claim(ino_t ino);
  // Ends a claim. swapped: our socket went in place of this one (ADDFD), so a
  // connect that reaches this one later (a copy taken before the swap, or a
  // dup the program kept) finds it connected, as a shared socket would be.
  void release(ino_t ino, bool swapped);

 private:
  std::mutex mu_;
  std::unordered_set<ino_t> in_flight_;
  std::unordered_set<ino_t> swapped_;
  std::deque<ino_t> swapped_order_;
};

// One claim, released on every path out.
class ConnectClaim {
 public:
  ConnectClaim(ConnectClaims& claims, ino_t ino)
      : claims_(claims), ino_(ino), state_(claims.claim(ino)) {}
  ~ConnectClaim() {
    if (state_ == ConnectClaims::State::Claimed) claims_.release(ino_, swapped_);
  }
  ConnectClaim(const ConnectClaim&) = delete;
  ConnectClaim& operator=(const ConnectClaim&) = delete;
  ConnectClaims::State state() const { return state_; }
  ino_t inode() const { return ino_; }
  // Our socket is installed in this one's place (before the claim ends).
  void swapped() { swapped_ = true; }

 private:
  ConnectClaims& claims_;
  ino_t ino_;
  ConnectClaims::State state_;
  bool swapped_ = false;
};

}  // namespace socksify::supervisor
