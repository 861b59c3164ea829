#include "core/pending_poll.hpp"

#include <errno.h>
#include <sys/mman.h>

#include <cstddef>

#include "core/async_connect.hpp"
#include "core/errno_saver.hpp"
#include "core/fd_table.hpp"
#include "core/real.hpp"

namespace socksify {
namespace {

// One pending socket of the program's array, and what it was before its
// eventfd took its place.
struct StandIn {
  FdState* state;
  nfds_t index;
  int fd;
  short events;
  bool done;
};

// Where the stand-ins live: on the stack for up to kInline pending sockets in
// one call, beyond that in pages of their own from mmap, sized to the count,
// unmapped on the way out. Not malloc: poll() is async-signal-safe, and
// programs poll from signal handlers and in a fork child of a threaded parent.
// Not a thread-local buffer kept for the next call either: a signal handler
// that polls while its thread is inside this poll() would write over it. Two
// syscalls beside a poll() over more than 64 handshakes in flight are noise,
// and nothing is left behind when the thread exits.
class StandIns {
 public:
  static constexpr std::size_t kInline = 64;

  StandIns(pollfd* fds, std::size_t capacity) : fds_(fds), cap_(kInline) {
    if (capacity > kInline) {
      void* p = mmap(nullptr, capacity * sizeof(StandIn), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      // No memory: the first kInline are stood in for, the rest polled as
      // they are (what every poll did before there was no cap).
      if (p != MAP_FAILED) {
        mapped_ = static_cast<StandIn*>(p);
        data_ = mapped_;
        cap_ = capacity;
        bytes_ = capacity * sizeof(StandIn);
      }
    }
  }
  // Also on pthread_cancel's unwind out of poll(): the program's array is put
  // back and no eventfd is left held.
  ~StandIns() {
    put_back();
    if (mapped_ != nullptr) munmap(mapped_, bytes_);
  }
  StandIns(const StandIns&) = delete;
  StandIns& operator=(const StandIns&) = delete;

  bool full() const { return n_ == cap_; }
  std::size_t size() const { return n_; }
  StandIn& operator[](std::size_t k) { return data_[k]; }

  // fds[i] (pending, in state s) is watched through done_fd from now on.
  void add(FdState* s, nfds_t i, int done_fd) {
    data_[n_++] = {s, i, fds_[i].fd, fds_[i].events, false};
    fds_[i].fd = done_fd;
    fds_[i].events = POLLIN;
  }

  // The program's descriptors and events back in its array (revents cleared),
  // each eventfd given back (the last one out closes it).
  void put_back() {
    for (std::size_t k = 0; k < n_; ++k) {
      pollfd& p = fds_[data_[k].index];
      p.fd = data_[k].fd;
      p.events = data_[k].events;
      p.revents = 0;
      data_[k].state->connect.release_done_fd();
    }
    n_ = 0;
  }

 private:
  pollfd* fds_;
  StandIn inline_[kInline];
  StandIn* data_ = inline_;
  StandIn* mapped_ = nullptr;
  std::size_t bytes_ = 0;
  std::size_t cap_;
  std::size_t n_ = 0;
};

bool is_pending(const pollfd& p) {
  const FdState* s = fd_table().get(p.fd);
  return s != nullptr && s->connecting();
}

// How many entries need a stand-in: counted first only when more than the
// inline room could be asked for. A connect that starts on another thread
// meanwhile may find no room; it is polled as it is.
std::size_t stand_ins_needed(const pollfd* fds, nfds_t n) {
  if (n <= StandIns::kInline) return n;
  std::size_t count = 0;
  for (nfds_t i = 0; i < n; ++i) count += is_pending(fds[i]);
  return count;
}

}  // namespace

int poll_pending(pollfd* fds, nfds_t n, int timeout_ms, const timespec* ts, const sigset_t* mask,
                 bool use_ppoll) {
  StandIns swaps(fds, stand_ins_needed(fds, n));
  for (nfds_t i = 0; i < n && !swaps.full(); ++i) {
    if (!is_pending(fds[i])) continue;
    FdState* s = fd_table().get(fds[i].fd);
    const int done_fd = s->connect.hold_done_fd();
    if (done_fd < 0) continue;  // over already, or no eventfd: poll the socket itself
    swaps.add(s, i, done_fd);
  }
  const int r = use_ppoll ? REAL(ppoll)(fds, n, ts, mask) : REAL(poll)(fds, n, timeout_ms);
  ErrnoSaver keep;
  const std::size_t ns = swaps.size();
  for (std::size_t k = 0; k < ns; ++k) {
    swaps[k].done = r > 0 && (fds[swaps[k].index].revents & POLLIN);
  }
  swaps.put_back();  // keeps the records: only the count is reset
  if (r <= 0 || ns == 0) return r;
  for (std::size_t k = 0; k < ns; ++k) {
    if (!swaps[k].done) continue;
    // The handshake is over: the socket's own readiness is the truth now.
    pollfd& p = fds[swaps[k].index];
    pollfd real{p.fd, p.events, 0};
    if (REAL(poll)(&real, 1, 0) > 0) p.revents = real.revents;
  }
  int count = 0;
  for (nfds_t i = 0; i < n; ++i) count += fds[i].revents != 0;
  return count;
}

int select_pending(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* ts,
                   const sigset_t* mask) {
  // Every descriptor select can name (FD_SETSIZE), on the stack (8 KiB).
  pollfd fds[FD_SETSIZE];
  nfds_t n = 0;
  const int limit = nfds < FD_SETSIZE ? nfds : FD_SETSIZE;
  for (int fd = 0; fd < limit; ++fd) {
    short ev = 0;
    if (r != nullptr && FD_ISSET(fd, r)) ev |= POLLIN;
    if (w != nullptr && FD_ISSET(fd, w)) ev |= POLLOUT;
    if (e != nullptr && FD_ISSET(fd, e)) ev |= POLLPRI;
    if (ev != 0) fds[n++] = {fd, ev, 0};
  }
  const int rc = poll_pending(fds, n, -1, ts, mask, true);
  if (rc < 0) return rc;
  int count = 0;
  for (nfds_t i = 0; i < n; ++i) {
    // select reports a closed descriptor as EBADF, as poll reports POLLNVAL.
    if (fds[i].revents & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
  }
  if (r != nullptr) FD_ZERO(r);
  if (w != nullptr) FD_ZERO(w);
  if (e != nullptr) FD_ZERO(e);
  for (nfds_t i = 0; i < n; ++i) {
    const short got = fds[i].revents;
    if (r != nullptr && (fds[i].events & POLLIN) && (got & (POLLIN | POLLHUP | POLLERR))) {
      FD_SET(fds[i].fd, r);
      ++count;
    }
    if (w != nullptr && (fds[i].events & POLLOUT) && (got & (POLLOUT | POLLERR))) {
      FD_SET(fds[i].fd, w);
      ++count;
    }
    if (e != nullptr && (fds[i].events & POLLPRI) && (got & POLLPRI)) {
      FD_SET(fds[i].fd, e);
      ++count;
    }
  }
  return count;
}

}  // namespace socksify
