// The connect part of a socket's state (FdState::connect, src/core/fd_state.hpp):
// a TCP tunnel opened by connect(), whose SOCKS handshake runs on a pool worker
// (src/core/async_connect.cpp) while the program goes on. This file owns the
// part's fields and every transition of them; the pool, the hooks and the BIND
// code only call the methods below.
//
//   reset ──begin()──> connecting ──settle(error)──> settled: error 0 (the tunnel
//                          │                          stands) or the errno, reported
//                          └──abandon()──> reset     once (take_error / take_outcome)
//
// While connecting, the readiness calls must not see the socket writable:
// poll/select watch an eventfd in its place (hold_done_fd), epoll registrations
// are recorded (epoll_ctl) and handed back by settle() to be made for real.
//
// HandshakeJob is the handshake's own life (the pool's ConnectJob derives from
// it): whether the worker still uses the program's descriptor number, which a
// close() must wait for or leave open to it.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/socket_name.hpp"

namespace socksify {

class Endpoint;
struct EarlyTunnel;  // src/core/early_data.hpp

class HandshakeJob {
 public:
  explicit HandshakeJob(int fd) noexcept : fd_(fd) {}
  HandshakeJob(const HandshakeJob&) = delete;
  HandshakeJob& operator=(const HandshakeJob&) = delete;

  int fd() const noexcept { return fd_; }

  // The worker takes the job: false when close() skipped it first (the number
  // is then not the worker's to touch).
  bool take() noexcept;
  // The worker is done with the number: close()s waiting for that are woken.
  // true when close() left the number open to the worker (held): it is the
  // worker's to close now.
  bool release() noexcept;

  // close() of the socket's last descriptor: nobody can use the handshake any
  // more. Skipped: the worker had not taken it (it never will). Running: the
  // worker is on it; the caller wakes it (shutdown) and wait_until_released().
  // Over: the worker is finishing or done already.
  enum class Cancel { Skipped, Running, Over };
  Cancel cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  // What the handshake's I/O and log lines look at (t_handshake_cancelled).
  const std::atomic<bool>* cancelled_flag() const noexcept { return &cancelled_; }

  // close() of one descriptor while another goes on with the handshake, which
  // works on this number: the number stays open (held) until the worker is
  // done with it. false when the worker is done already.
  bool hold() noexcept;
  bool held() const noexcept;

  // Blocks until the worker no longer runs, or no longer holds the number.
  void wait_until_released() noexcept;
  void wait_until_unheld() noexcept;

 private:
  friend class ConnectState;  // counts references under the state's lock

  // phase: Queued -> Running -> Released (fd no longer touched), or Queued ->
  // Skipped (closed before a worker took it). kHeld is or'ed in when the
  // program closed `fd` while another descriptor still refers to the socket.
  static constexpr std::uint32_t kQueued = 0, kRunning = 1, kReleased = 2, kSkipped = 3, kHeld = 4;

  int fd_;
  std::atomic<std::uint32_t> phase_{kQueued};  // also the futex word close() waits on
  std::atomic<bool> cancelled_{false};
  std::atomic<int> phase_waiters_{0};  // close()s waiting on phase: wake only then
  int refs_ = 1;  // the worker's, plus close() calls looking at it; under the state's lock
};

class ConnectState {
 public:
  struct Watcher {
    int epfd;
    epoll_event ev;  // what the program asked for
  };
  static constexpr int kMaxWatchers = 4;

  ConnectState() = default;
  ConnectState(const ConnectState&) = delete;
  ConnectState& operator=(const ConnectState&) = delete;

  // --- the part's life (FdState calls these) ---
  // A fresh state: no handshake, no outcome.
  void reset() noexcept;
  // The socket's last descriptor closed: the eventfd is closed.
  void release() noexcept;
  // In a forked child (one thread): the lock is made anew, and a handshake in
  // flight fails (ECONNABORTED): no worker exists there to finish it.
  void reset_in_child() noexcept;

  // --- questions, lock-free ---
  // The handshake is queued or runs: no I/O yet, not writable.
  bool connecting() const noexcept { return pending_.load(std::memory_order_acquire); }
  // close() must go through the pool (close_pending): a handshake queued,
  // running, or finishing (its outcome published, the worker still re-arming
  // epoll registrations on the number).
  bool has_handshake() const noexcept {
    return connecting() || job_.load(std::memory_order_acquire) != nullptr;
  }
  // The program's socket was blocking at connect(): a connect() waits for it.
  bool blocking() const noexcept { return blocking_; }
  // Settled with an error (reported or not): no peer, no tunnel.
  bool failed() const noexcept { return error_.load(std::memory_order_relaxed) != 0; }

  // --- the outcome, reported once ---
  // SO_ERROR's read-and-clear: the handshake's errno the first time it is
  // asked for, 0 when there was none or it was reported already.
  int take_error() noexcept { return take(false); }
  // The outcome for the connect() that waited for it (0: connected), even if
  // SO_ERROR read it meanwhile; reported from then on.
  int take_outcome() noexcept { return take(true); }

  // With the tunnel up: the proxy's end of the connection to the destination
  // (BND of the CONNECT reply) as the socket's family shows it; false when the
  // proxy named none, or no tunnel stands.
  bool proxy_end(sockaddr* addr, socklen_t* len) const noexcept;

  // --- transitions (src/core/async_connect.cpp) ---
  // connect() queued job for s: connecting from now on.
  void begin(HandshakeJob* job, bool blocking) noexcept;
  // begin() undone: no worker could take the job.
  void abandon() noexcept;
  // Before settle(0): the proxy's end of the tunnel (see proxy_end), kept in
  // the socket's family (family: AF_INET6 shows IPv4 as ::ffff:a.b.c.d).
  void set_proxy_end(const Endpoint& bound, int family);
  // The handshake ended with error (0: the tunnel stands): published to every
  // reader, the eventfd made readable, the generation bumped (wake its futex
  // word when blocking()). rearm(), asked under the lock: whether the epoll
  // registrations recorded meanwhile go back to the program's descriptor; they
  // are copied to out for the caller to make for real. Returns their count.
  template <class Rearm>
  int settle(int error, Rearm&& rearm, Watcher (&out)[kMaxWatchers]) noexcept {
    std::lock_guard lock(mu_);
    return settle_locked(error, rearm(), out);
  }
  // Bumped when a handshake settles: the futex word a blocking connect() waits
  // on (read it, then check connecting(), then wait while it is unchanged).
  std::atomic<std::uint32_t>& generation() noexcept { return settled_; }
  // Blocking connect()s waiting on generation(): settling wakes the word only
  // when one may be (a connect() whose handshake ran on its own thread has
  // nobody to wake). Counted before the waiter reads the word; a siglongjmp
  // or cancellation out of the wait leaves the count high: a wake-up for
  // nobody later, never one missed.
  void add_waiter() noexcept {
    waiters_.fetch_add(1);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  void remove_waiter() noexcept { waiters_.fetch_sub(1); }
  bool may_have_waiters() const noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // after settle's stores
    return waiters_.load(std::memory_order_relaxed) != 0;
  }

  // References to the job, counted under this state's lock so that the job
  // outlives every close() looking at it. end_job: the worker is done (the
  // state forgets the job); unpin: a close() is. Both true when that was the
  // last reference: the caller deletes the job.
  bool end_job(HandshakeJob* job) noexcept;
  // close(): the epoll registrations are forgotten (the number may be reused)
  // and the job, if any, pinned (nullptr when none).
  HandshakeJob* pin_for_close() noexcept;
  void pin(HandshakeJob* job) noexcept;
  bool unpin(HandshakeJob* job) noexcept;

  // --- readiness (src/core/pending_poll.cpp, the epoll_ctl hook) ---
  // The eventfd that stands in for the socket inside one poll(), made on first
  // use, readable once the handshake is over; -1 when it is over already or no
  // eventfd could be had. Each one held is given back with release_done_fd()
  // before the poll() returns: the last one out closes it once it is over.
  int hold_done_fd() noexcept;
  void release_done_fd() noexcept;
  // epoll_ctl while connecting: registrations are recorded, made for real when
  // the handshake settles (the kernel's otherwise).
  int epoll_ctl(int epfd, int op, int fd, epoll_event* ev) noexcept;
  // The program closes a descriptor: its registrations go (the number may be reused).
  void forget_watchers() noexcept;

  // --- early data (src/core/early_data.hpp) ---
  // The tunnel whose proxy replies the data hooks read before the program's
  // first byte, set before settle(0); made on the state's first early connect
  // and kept with it (reset and release only mark it not due).
  EarlyTunnel* early() const noexcept { return early_.load(std::memory_order_acquire); }
  void set_early(EarlyTunnel* t) noexcept { early_.store(t, std::memory_order_release); }
  // Its replies are still to be read (one more load for tunnels without it).
  bool early_due() const noexcept;

  // For tests: the descriptor standing in for poll() now (-1 when none).
  int done_fd_for_test() const noexcept { return done_fd_.load(); }

 private:
  int take(bool even_if_reported) noexcept;
  int settle_locked(int error, bool rearm, Watcher (&out)[kMaxWatchers]) noexcept;
  void close_done_fd_if_idle_locked() noexcept;

  std::atomic<bool> pending_{false};
  std::atomic<int> error_{0};  // the outcome, written under mu_
  bool reported_ = false;      // under mu_
  bool blocking_ = false;
  // eventfd, readable once the handshake finished; closed as soon as it is
  // over and no poll() is using it (it would double the program's fd count).
  std::atomic<int> done_fd_{-1};
  std::atomic<int> pollers_{0};  // poll()s inside the kernel with done_fd_
  std::atomic<std::uint32_t> settled_{0};
  std::atomic<int> waiters_{0};              // see add_waiter
  std::atomic<HandshakeJob*> job_{nullptr};  // while one is queued, runs or finishes
  std::atomic<EarlyTunnel*> early_{nullptr};
  SocketName proxy_end_;
  std::mutex mu_;  // the outcome, the watchers, the eventfd, job references
  Watcher watchers_[kMaxWatchers] = {};
  int n_watchers_ = 0;
};

}  // namespace socksify
