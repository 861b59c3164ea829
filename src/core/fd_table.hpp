// FdTable: what socksify knows about each descriptor it manages.
//
// The hot path (every interposed call on every descriptor) is get(): one bounds
// check and one atomic load, no lock. Descriptors we do not manage hold nullptr.
//
// A state is shared by every descriptor that refers to the same socket (dup,
// dup2, fcntl F_DUPFD...) and counted; it is released when the last one closes.
// States are recycled through a pool and never returned to malloc, so a thread
// that races a close() on the same descriptor (already a bug in the program)
// reads a stale state, never freed memory.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace socksify {

struct UdpAssociation;  // src/core/udp_association.hpp
struct ConnectJob;      // src/core/async_connect.cpp
struct DnsSocket;       // src/core/dns_intercept.cpp

struct FdState {
  // TcpBindCandidate: a TCP socket the program bound to port 0 of a non-loopback
  // address, with `bind on`; TcpBind: it now listens at the proxy (SOCKS BIND,
  // src/core/tcp_bind.hpp), the descriptor being the connection to the proxy.
  // DnsTcp: a TCP socket the program connected to a system resolver, under
  // remote DNS, answered by socksify (src/core/dns_intercept.hpp).
  enum class Kind : std::uint8_t { TcpTunnel, Udp, TcpBindCandidate, TcpBind, DnsTcp };
  Kind kind = Kind::TcpTunnel;
  std::atomic<int> refs{0};
  // TcpBindCandidate, TcpBind: the address the program bound (to bind again if
  // it connects instead), and TcpBind: where the proxy listens (getsockname).
  sockaddr_storage bound{};
  socklen_t bound_len = 0;
  sockaddr_storage local{};
  socklen_t local_len = 0;
  // What the program connected to, as it passed it (a fake remote-DNS address
  // stays fake): getpeername() answers with this.
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  // Kind::Udp: the association with the proxy, opened on first use (nullptr
  // until then). Read lock-free by every datagram call; written once, under
  // udp_mu, so two threads sending the first datagram open one association.
  std::atomic<UdpAssociation*> udp{nullptr};
  std::mutex udp_mu;
  // Kind::Udp: connected straight to a destination that is not proxied (the
  // kernel now filters for that peer; datagrams pass through untouched).
  std::atomic<bool> udp_direct_peer{false};
  // Kind::Udp that sent a query to a system resolver, and Kind::DnsTcp: the
  // DNS interception's part (src/core/dns_intercept.hpp owns it), made on first
  // use, released with the state.
  std::atomic<DnsSocket*> dns{nullptr};

  // Kind::TcpTunnel opened by a non-blocking connect(): the handshake runs on a
  // helper thread (src/core/async_connect.cpp) while the program's event loop
  // goes on; poll/select/epoll see the socket writable only once it is done.
  std::atomic<bool> pending{false};
  int connect_error = 0;  // the outcome, reported once (SO_ERROR, connect())
  bool error_reported = false;
  // eventfd, readable once the handshake finished; closed as soon as it is
  // over and no poll() is using it (it would double the program's fd count).
  std::atomic<int> done_fd{-1};
  std::atomic<int> pollers{0};  // poll()s inside the kernel with done_fd
  // Bumped when a handshake ends (after pending is cleared): the futex word a
  // blocking connect() waits on (src/core/async_connect.cpp).
  std::atomic<std::uint32_t> settled{0};
  // The handshake's job while one is queued or runs (close() cancels it).
  std::atomic<ConnectJob*> job{nullptr};
  bool blocking_connect = false;  // the program's socket was blocking at connect()
  std::mutex mu;                  // guards the epoll watchers below
  struct Watcher {
    int epfd;
    epoll_event ev;  // what the program asked for
  };
  static constexpr int kMaxWatchers = 4;
  Watcher watchers[kMaxWatchers] = {};
  int n_watchers = 0;
  FdState* next_free = nullptr;       // pool link
  FdState* next_allocated = nullptr;  // every state ever made (for fork)
};

class FdTable {
 public:
  static constexpr int kCapacity = 1 << 20;

  FdState* get(int fd) const noexcept {
    return static_cast<unsigned>(fd) < static_cast<unsigned>(kCapacity)
               ? slots_[fd].load(std::memory_order_acquire)
               : nullptr;
  }

  // A fresh state for fd (refs = 1), replacing whatever fd had. nullptr when fd
  // is out of range or memory ran out.
  FdState* create(int fd, FdState::Kind kind) noexcept;
  // dup: to now refers to from's state too (to's old state is released).
  void share(int from, int to) noexcept;
  // close: fd no longer refers to its state.
  void release(int fd) noexcept;
  // close_range(first, last).
  void release_range(unsigned first, unsigned last) noexcept;

  // An extra reference held by someone other than a descriptor (the thread
  // that finishes a non-blocking connect), and its release.
  void hold(FdState* s) noexcept { s->refs.fetch_add(1, std::memory_order_relaxed); }
  void put(FdState* s) noexcept { unref(s); }

  // Live states, to skip work (close_range scans) when there are none.
  int live() const noexcept { return live_.load(std::memory_order_relaxed); }

  // pthread_atfork: the pool lock must not be held across fork.
  void lock_for_fork() noexcept { pool_mu_.lock(); }
  void unlock_after_fork() noexcept { pool_mu_.unlock(); }
  // In a forked child: another thread of the parent may have held a state's
  // lock at the fork, and no helper thread exists to finish a non-blocking
  // connect. Locks are made anew, and connects in flight fail (ECONNABORTED):
  // the parent's helper finishes them for the parent, which owns them.
  void reset_in_child() noexcept;
  // In a forked child, after reset_in_child: f(state) for every state made
  // (live or pooled), for the owners of the parts to renew their own locks.
  template <class F>
  void for_each_state_in_child(F&& f) noexcept {
    for (FdState* s = allocated_; s != nullptr; s = s->next_allocated) f(*s);
  }

 private:
  void unref(FdState* s) noexcept;

  std::atomic<FdState*> slots_[kCapacity] = {};
  std::mutex pool_mu_;
  FdState* free_ = nullptr;
  FdState* allocated_ = nullptr;  // all states, never freed (type-stable)
  std::atomic<int> live_{0};
};

FdTable& fd_table() noexcept;

// Releases what a state holds beyond itself (a UDP association's control
// connection) when its last descriptor closes. Defined with the UDP code.
void release_udp_association(UdpAssociation* udp) noexcept;
// Likewise the DNS part (its stream end), defined with the DNS interception.
void release_dns_socket(DnsSocket* dns) noexcept;

}  // namespace socksify
