#include "core/async_connect.hpp"

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdint>
#include <new>

#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"
#include "core/session.hpp"
#include "core/tcp_bind.hpp"

namespace socksify {
namespace {

std::atomic<int> g_pending{0};

struct Job {
  int fd;      // the program's number, to re-arm its epoll registrations
  int dup_fd;  // ours: the program may close fd while we work
  FdState* state;
  Endpoint target;
  Job* next = nullptr;  // the pool's queue
};

// Handshake workers. Creating a thread inside connect() held the program's
// event loop for ~10-20 us (bench/event_loop_block); with a worker waiting,
// connect() only queues the job and wakes it. Workers are made on demand (one
// per handshake running at once, so a silent proxy never delays another
// connection) and leave after kIdleExit without work.
constexpr auto kIdleExit = std::chrono::seconds(10);

struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  Job* head = nullptr;
  Job* tail = nullptr;
  int queued = 0;
  int idle = 0;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: workers may outlive exit handlers
  return *p;
}

// Closes the handshake's eventfd once it is over and no poll() holds it. Called
// with s->mu held: pollers take and leave it, and finish() ends the handshake,
// under that lock, so whoever is last closes it, before a poll() returns to
// the program (which must never see our descriptor outlive the handshake).
void close_done_fd_if_idle_locked(FdState* s) {
  if (s->pending.load() || s->pollers.load() != 0) return;
  if (s->done_fd.load() >= 0) close_own_fd(s->done_fd);  // ours: src/core/own_fds.hpp
}

void finish(const Job& job, int error) {
  FdState* s = job.state;
  FdState::Watcher watchers[FdState::kMaxWatchers];
  int n = 0;
  {
    // Under the lock, so that an epoll_ctl either lands in the watchers we
    // copy here or sees the handshake over and registers for real, and a
    // poll() either made its eventfd before (we wake it) or sees it over.
    std::lock_guard lock(s->mu);
    s->connect_error = error;
    s->error_reported = false;
    n = s->n_watchers;
    for (int i = 0; i < n; ++i) watchers[i] = s->watchers[i];
    s->n_watchers = 0;
    s->pending.store(false);
    if (const int done_fd = s->done_fd.load(); done_fd >= 0) {
      const std::uint64_t one = 1;
      ssize_t ignored = REAL(write)(done_fd, &one, sizeof one);
      (void)ignored;
    }
    close_done_fd_if_idle_locked(s);
  }
  g_pending.fetch_sub(1, std::memory_order_relaxed);
  // The registrations the program made meanwhile, made for real now: epoll
  // looks at the socket and wakes the program's epoll_wait if it is ready.
  for (int i = 0; i < n; ++i) {
    if (REAL(epoll_ctl)(watchers[i].epfd, EPOLL_CTL_ADD, job.fd, &watchers[i].ev) != 0 &&
        errno == EEXIST) {
      REAL(epoll_ctl)(watchers[i].epfd, EPOLL_CTL_MOD, job.fd, &watchers[i].ev);
    }
  }
}

void run(Job* job) {
  auto reply = open_session(job->dup_fd, socks5::Command::Connect, job->target,
                            /*may_replace_socket=*/false);
  REAL(close)(job->dup_fd);
  if (reply) tcp_bind_remember_origin(job->state, reply->bound);  // before finish() publishes
  finish(*job, reply ? 0 : reply.error().code);
  fd_table().put(job->state);
  delete job;
}

void* worker(void* first) {
  ReentryGuard guard;  // everything this thread does goes straight to libc
  Pool& p = pool();
  Job* job = static_cast<Job*>(first);
  for (;;) {
    run(job);
    std::unique_lock lock(p.mu);
    ++p.idle;
    const bool work = p.cv.wait_for(lock, kIdleExit, [&p] { return p.head != nullptr; });
    --p.idle;
    if (!work) return nullptr;
    job = p.head;
    p.head = job->next;
    if (p.head == nullptr) p.tail = nullptr;
    --p.queued;
  }
}

// Hands job to an idle worker, or to a new one; false if neither can be had.
bool dispatch(Job* job) {
  Pool& p = pool();
  {
    std::lock_guard lock(p.mu);
    if (p.idle > p.queued) {
      job->next = nullptr;
      (p.tail != nullptr ? p.tail->next : p.head) = job;
      p.tail = job;
      ++p.queued;
      p.cv.notify_one();
      return true;
    }
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  // The program's signal handlers must never run on our thread; the mask is
  // the new thread's from its first instruction.
  sigset_t all;
  sigfillset(&all);
  pthread_attr_setsigmask_np(&attr, &all);
  pthread_t tid;
  const int rc = pthread_create(&tid, &attr, worker, job);
  pthread_attr_destroy(&attr);
  return rc == 0;
}

}  // namespace

bool any_pending() noexcept { return g_pending.load(std::memory_order_relaxed) != 0; }

void forget_pending_in_child() noexcept {
  g_pending.store(0, std::memory_order_relaxed);
  // No worker exists in the child; the queue's jobs were the parent's.
  new (&pool()) Pool;
}

bool start_async_connect(int fd, FdState* s, const Endpoint& target) noexcept {
  // Every syscall here is time the program's event loop stands still (see
  // bench/event_loop_block): the eventfd is made only if a poll() waits.
  const int dup_fd = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return false;
  Job* job = new (std::nothrow) Job{fd, dup_fd, s, target};
  if (job == nullptr) {
    REAL(close)(dup_fd);
    return false;
  }
  s->connect_error = 0;
  s->pending.store(true, std::memory_order_release);
  g_pending.fetch_add(1, std::memory_order_relaxed);
  fd_table().hold(s);
  if (dispatch(job)) return true;

  s->pending.store(false, std::memory_order_release);
  g_pending.fetch_sub(1, std::memory_order_relaxed);
  fd_table().put(s);
  REAL(close)(dup_fd);
  delete job;
  return false;
}

void forget_watchers(FdState* s) noexcept {
  std::lock_guard lock(s->mu);
  s->n_watchers = 0;
}

int poll_pending(pollfd* fds, nfds_t n, int timeout_ms, const timespec* ts, const sigset_t* mask,
                 bool use_ppoll) noexcept {
  struct Swap {
    nfds_t index;
    int fd;
    short events;
  };
  constexpr int kMaxSwaps = 64;
  Swap swaps[kMaxSwaps];
  int ns = 0;
  FdState* held[kMaxSwaps];
  for (nfds_t i = 0; i < n && ns < kMaxSwaps; ++i) {
    FdState* s = fd_table().get(fds[i].fd);
    if (s == nullptr || !s->pending.load(std::memory_order_acquire)) continue;
    int done_fd = -1;
    {
      std::lock_guard lock(s->mu);  // against finish(): see there
      if (!s->pending.load()) continue;
      done_fd = s->done_fd.load();
      if (done_fd < 0) {
        done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (done_fd < 0) continue;  // no eventfd: poll the socket itself
        s->done_fd.store(done_fd);
      }
      s->pollers.fetch_add(1);
    }
    held[ns] = s;
    swaps[ns++] = {i, fds[i].fd, fds[i].events};
    fds[i].fd = done_fd;
    fds[i].events = POLLIN;
  }
  const int r = use_ppoll ? REAL(ppoll)(fds, n, ts, mask) : REAL(poll)(fds, n, timeout_ms);
  ErrnoSaver keep;
  for (int k = 0; k < ns; ++k) {
    std::lock_guard lock(held[k]->mu);
    held[k]->pollers.fetch_sub(1);
    close_done_fd_if_idle_locked(held[k]);
  }
  bool any_done = false;
  for (int k = 0; k < ns; ++k) {
    pollfd& p = fds[swaps[k].index];
    const bool done = r > 0 && (p.revents & POLLIN);
    p.fd = swaps[k].fd;
    p.events = swaps[k].events;
    p.revents = 0;
    if (done) {
      // The handshake is over: the socket's own readiness is the truth now.
      pollfd real{p.fd, p.events, 0};
      if (REAL(poll)(&real, 1, 0) > 0) p.revents = real.revents;
      any_done = true;
    }
  }
  if (r <= 0 || ns == 0) return r;
  int count = 0;
  for (nfds_t i = 0; i < n; ++i) count += fds[i].revents != 0;
  (void)any_done;
  return count;
}

int select_pending(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* ts,
                   const sigset_t* mask, bool use_pselect) noexcept {
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
  int timeout_ms = -1;
  if (ts != nullptr) timeout_ms = static_cast<int>(ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000);
  const int rc = poll_pending(fds, n, timeout_ms, ts, mask, use_pselect);
  if (rc < 0) {
    // select reports a closed descriptor as EBADF, as poll reports POLLNVAL.
    return rc;
  }
  if (r != nullptr) FD_ZERO(r);
  if (w != nullptr) FD_ZERO(w);
  if (e != nullptr) FD_ZERO(e);
  int count = 0;
  for (nfds_t i = 0; i < n; ++i) {
    const short got = fds[i].revents;
    if (got & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
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

int epoll_ctl_pending(FdState* s, int epfd, int op, int fd, epoll_event* ev) noexcept {
  std::lock_guard lock(s->mu);
  if (!s->pending.load(std::memory_order_acquire)) return REAL(epoll_ctl)(epfd, op, fd, ev);
  int found = -1;
  for (int i = 0; i < s->n_watchers; ++i) {
    if (s->watchers[i].epfd == epfd) found = i;
  }
  // Until the tunnel is ready the socket is kept out of the program's epoll set
  // entirely: epoll reports EPOLLHUP/EPOLLERR whatever the mask, and a socket
  // not yet connected to the proxy is "hung up". The registration is recorded
  // here and made for real when the handshake ends. Registrations made before
  // connect() are the kernel's and pass through.
  switch (op) {
    case EPOLL_CTL_ADD:
      if (ev == nullptr) break;
      if (found >= 0) {
        errno = EEXIST;
        return -1;
      }
      if (s->n_watchers == FdState::kMaxWatchers) {
        errno = ENOSPC;
        return -1;
      }
      s->watchers[s->n_watchers++] = {epfd, *ev};
      return 0;
    case EPOLL_CTL_MOD:
      if (found < 0 || ev == nullptr) break;
      s->watchers[found].ev = *ev;
      return 0;
    case EPOLL_CTL_DEL:
      if (found < 0) break;
      s->watchers[found] = s->watchers[--s->n_watchers];
      return 0;
    default:
      break;
  }
  return REAL(epoll_ctl)(epfd, op, fd, ev);
}

}  // namespace socksify
