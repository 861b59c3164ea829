// OwnFds: the descriptors socksify opens for itself inside the program (a UDP
// association's control connection, a pending connect's eventfd), kept out of
// the program's way.
//
// The program never opened them, so it may close them by accident (closefrom,
// close_range over "everything but mine", a loop of close()) and reuse the
// numbers; closing its UDP socket would then close the program's new file. So
// every descriptor of ours is
//   * moved high (above the numbers a program uses first, and above select()'s
//     1024 when the limit allows: see own_fd_floor_for),
//   * invisible to the program's close/close_range/closefrom (EBADF for a close
//     of our number, ranges split around ours), and moved away before the
//     program's dup2/dup3 onto its number,
//   * verified before we close it (the socket's SO_COOKIE, the file's device
//     and inode, recorded at adoption): a number taken from us by a raw syscall
//     is never closed by us.
//
// Each descriptor has one holder, the std::atomic<int> where its owner keeps
// the number (UdpAssociation::control_fd, FdState::done_fd): the registry
// writes a new number there when it moves the descriptor, and takes it from
// there to close it, so no one closes a number that is no longer ours.
//
// The hot path (close and close_range on descriptors we do not own) is one
// load: maybe_own_fd() compares with the lowest number we own (none: INT_MAX).
// Everything else takes a mutex; none of it runs for the program's own
// descriptors below that floor.
#pragma once

#include <sys/resource.h>

#include <atomic>
#include <climits>
#include <cstdint>
#include <mutex>

namespace socksify {

// The lowest number adopt moves a descriptor to, for a soft RLIMIT_NOFILE of
// `soft_limit` (0 or RLIM_INFINITY: `capacity`) and `capacity` numbers we can
// track. Pure, for unit tests.
int own_fd_floor_for(rlim_t soft_limit, int capacity) noexcept;

class OwnFds {
 public:
  static constexpr int kCapacity = 1 << 20;  // as FdTable::kCapacity

  // Hot path: false means fd is certainly not ours (one relaxed load).
  bool maybe_own(int fd) const noexcept { return fd >= floor_.load(std::memory_order_relaxed); }
  bool maybe_own_in(unsigned first, unsigned last) const noexcept {
    const int floor = floor_.load(std::memory_order_relaxed);
    return floor != INT_MAX && last >= static_cast<unsigned>(floor) && first < kCapacity;
  }
  // Exact: fd is one of ours now.
  bool is_own(int fd) const noexcept;

  // Takes fd (ours, just made; -1 passes through), moves it high, records it,
  // and stores the number into holder. Returns that number. errno preserved.
  int adopt(int fd, std::atomic<int>& holder) noexcept;
  // A close-on-exec duplicate of fd (the program's socket, for a helper
  // thread), made straight at a high number and recorded in holder: one
  // fcntl instead of dup + move. -1 with errno when no number is free.
  int adopt_dup(int fd, std::atomic<int>& holder) noexcept;
  // We put another file in place at the same number (dup3 onto it, as the
  // session does to change a socket's family): remember what it is now.
  void renew(std::atomic<int>& holder) noexcept;
  // The descriptor in `from` is kept in `to` from now on (from becomes -1).
  void hand_over(std::atomic<int>& from, std::atomic<int>& to) noexcept;
  // Closes the descriptor in holder (holder becomes -1), after checking that
  // the number still refers to what we adopted. Descriptors that were never
  // adopted (adopt could not record them) are just closed. errno preserved.
  void close(std::atomic<int>& holder) noexcept;

  // The program's dup2/dup3 onto fd, where fd is ours: ours moves to another
  // number (its holder updated) and fd is closed, free for the program.
  // false when fd was not ours.
  bool vacate(int fd) noexcept;
  // The program's close_range(first, last, flags) (first <= last, without
  // CLOSE_RANGE_CLOEXEC), done as calls around our descriptors. 0 or -1/errno.
  int close_range_sparing(unsigned first, unsigned last, int flags) noexcept;

  // Makes the kernel's table of descriptors reach the numbers adopt() moves
  // ours to, now, while the process most likely has one thread (fd: any open
  // descriptor; once per process, FdTable::create calls it). Growing the table
  // once a thread shares it waits for an RCU grace period (expand_fdtable's
  // synchronize_rcu), 6-40 ms measured here: the first poll of a pending
  // connect, whose eventfd adopt() moves high with our connect worker running,
  // made every proxied curl download that much slower. Here it is one fcntl
  // and one close, ~10 us, and a table of at most 2048 slots (16 KiB).
  void make_room(int fd) noexcept;
  // A forked child's table is sized to the descriptors open at the fork.
  void reset_in_child() noexcept { room_made_.store(false, std::memory_order_relaxed); }

  int count() const noexcept { return count_.load(std::memory_order_relaxed); }

  // pthread_atfork: the registry is consistent in the child (its descriptors
  // are copies of ours, at the same numbers).
  void lock_for_fork() noexcept { mu_.lock(); }
  void unlock_after_fork() noexcept { mu_.unlock(); }

 private:
  struct Identity {
    std::uint64_t dev = 0, ino = 0, cookie = 0;
    bool operator==(const Identity&) const = default;
  };
  struct Entry {
    std::atomic<std::atomic<int>*> holder{nullptr};  // non-null: the number is ours
    Identity id;
  };
  static constexpr int kChunkBits = 10;
  static constexpr int kChunk = 1 << kChunkBits;
  struct Chunk {
    Entry e[kChunk];
  };

  Entry* entry(int fd) const noexcept;
  Entry* entry_or_make_locked(int fd) noexcept;
  static bool identify(int fd, Identity& id) noexcept;
  int move_high_locked(int fd) noexcept;
  void record_locked(int fd, Entry& e, std::atomic<int>* holder) noexcept;
  void take_locked(int fd, std::atomic<int>& holder) noexcept;
  void forget_locked(Entry& e) noexcept;

  std::atomic<int> floor_{INT_MAX};  // lowest number recorded since count_ was last 0
  int ceiling_ = -1;                 // highest, likewise (under mu_)
  std::atomic<int> count_{0};
  std::atomic<bool> room_made_{false};  // make_room() ran in this process
  std::mutex mu_;
  // Two levels, chunks made on first use and never freed (a racing is_own()
  // reads a live chunk): our numbers cluster, so one or two chunks exist.
  std::atomic<Chunk*> dir_[kCapacity >> kChunkBits] = {};
};

namespace detail {
extern OwnFds g_own_fds;  // constant-initialised: usable from any constructor
}
// Inline, so the hot path's one load is all it costs (no call).
inline OwnFds& own_fds() noexcept {
  return detail::g_own_fds;
}

// The registry's API for the descriptors' owners, on the process-wide registry.
inline int adopt_own_fd(int fd, std::atomic<int>& holder) noexcept {
  return own_fds().adopt(fd, holder);
}
inline void close_own_fd(std::atomic<int>& holder) noexcept {
  own_fds().close(holder);
}

}  // namespace socksify
