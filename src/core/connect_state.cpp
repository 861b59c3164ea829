#include "core/connect_state.hpp"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <new>

#include "base/endpoint.hpp"
#include "core/early_data.hpp"
#include "core/futex.hpp"
#include "core/own_fds.hpp"
#include "core/real.hpp"

namespace socksify {
namespace {

// An early-data tunnel stays with its state; a state reset or released has no
// replies due.
void not_due(EarlyTunnel* t) {
  if (t != nullptr) t->due.store(false, std::memory_order_release);
}

}  // namespace

// --- HandshakeJob ---

bool HandshakeJob::take() noexcept {
  std::uint32_t p = phase_.load(std::memory_order_acquire);
  while (p != kSkipped &&
         !phase_.compare_exchange_weak(p, (p & kHeld) | kRunning, std::memory_order_acq_rel)) {
  }
  return p != kSkipped;
}

bool HandshakeJob::release() noexcept {
  const std::uint32_t old = phase_.exchange(kReleased);
  if (phase_waiters_.load() != 0) futex_wake_all(&phase_);
  return (old & kHeld) != 0;
}

HandshakeJob::Cancel HandshakeJob::cancel() noexcept {
  cancelled_.store(true, std::memory_order_release);
  std::uint32_t p = kQueued;
  if (phase_.compare_exchange_strong(p, kSkipped, std::memory_order_acq_rel)) {
    return Cancel::Skipped;
  }
  return (p & ~kHeld) == kRunning ? Cancel::Running : Cancel::Over;
}

bool HandshakeJob::hold() noexcept {
  std::uint32_t p = phase_.load(std::memory_order_acquire);
  while ((p == kQueued || p == kRunning) &&
         !phase_.compare_exchange_weak(p, p | kHeld, std::memory_order_acq_rel)) {
  }
  return p == kQueued || p == kRunning;
}

bool HandshakeJob::held() const noexcept {
  return (phase_.load(std::memory_order_acquire) & kHeld) != 0;
}

void HandshakeJob::wait_until_released() noexcept {
  phase_waiters_.fetch_add(1);  // before the phase is read: see release()
  std::uint32_t p;
  while (((p = phase_.load()) & ~kHeld) == kRunning) futex(&phase_, FUTEX_WAIT, p);
  phase_waiters_.fetch_sub(1);
}

void HandshakeJob::wait_until_unheld() noexcept {
  phase_waiters_.fetch_add(1);  // before the phase is read: see release()
  std::uint32_t p;
  while ((p = phase_.load()) & kHeld) futex(&phase_, FUTEX_WAIT, p);
  phase_waiters_.fetch_sub(1);
}

// --- ConnectState: the part's life ---

void ConnectState::reset() noexcept {
  pending_.store(false, std::memory_order_relaxed);
  error_.store(0, std::memory_order_relaxed);
  reported_ = false;
  blocking_ = false;
  done_fd_.store(-1, std::memory_order_relaxed);
  pollers_.store(0, std::memory_order_relaxed);
  job_.store(nullptr, std::memory_order_relaxed);
  proxy_end_.clear();
  n_watchers_ = 0;
  not_due(early_.load(std::memory_order_relaxed));
}

void ConnectState::release() noexcept {
  // The eventfd is one of socksify's own descriptors (src/core/own_fds.hpp).
  if (done_fd_.load(std::memory_order_relaxed) >= 0) close_own_fd(done_fd_);
  not_due(early_.load(std::memory_order_relaxed));
}

bool ConnectState::early_due() const noexcept {
  const EarlyTunnel* t = early_.load(std::memory_order_acquire);
  return t != nullptr && t->due.load(std::memory_order_acquire);
}

void ConnectState::reset_in_child() noexcept {
  new (&mu_) std::mutex;
  if (EarlyTunnel* t = early_.load(std::memory_order_relaxed)) new (&t->mu) std::mutex;
  if (pending_.load(std::memory_order_relaxed)) {
    pending_.store(false, std::memory_order_relaxed);
    error_.store(ECONNABORTED, std::memory_order_relaxed);
    reported_ = false;
    n_watchers_ = 0;
  }
  // The job is the parent's (its worker runs there): the child's close() must
  // neither shut the shared socket down nor wait for a worker it does not have.
  job_.store(nullptr, std::memory_order_relaxed);
}

// --- the outcome ---

int ConnectState::take(bool even_if_reported) noexcept {
  std::lock_guard lock(mu_);
  if (reported_ && !even_if_reported) return 0;
  reported_ = true;  // SO_ERROR is read-and-clear
  return error_.load(std::memory_order_relaxed);
}

bool ConnectState::proxy_end(sockaddr* addr, socklen_t* len) const noexcept {
  // The name last: it was written before the outcome was published.
  if (connecting() || failed() || !proxy_end_.known()) return false;
  proxy_end_.copy_out(addr, len);
  return true;
}

// --- transitions ---

void ConnectState::begin(HandshakeJob* job, bool blocking) noexcept {
  error_.store(0, std::memory_order_relaxed);
  proxy_end_.clear();
  blocking_ = blocking;
  job_.store(job, std::memory_order_relaxed);
  pending_.store(true, std::memory_order_release);
}

void ConnectState::abandon() noexcept {
  job_.store(nullptr, std::memory_order_relaxed);
  pending_.store(false, std::memory_order_release);
}

void ConnectState::set_proxy_end(const Endpoint& bound, int family) {
  if (bound.is_ip() && !bound.is_unspecified()) proxy_end_.set(bound, family);
}

// Under mu_, so that an epoll_ctl either lands in the watchers copied here or
// sees the handshake over and registers for real, and a poll() either made
// its eventfd before (it is woken) or sees it over.
int ConnectState::settle_locked(int error, bool rearm, Watcher (&out)[kMaxWatchers]) noexcept {
  error_.store(error, std::memory_order_relaxed);
  reported_ = false;
  const int n = rearm ? n_watchers_ : 0;
  for (int i = 0; i < n; ++i) out[i] = watchers_[i];
  n_watchers_ = 0;
  pending_.store(false);
  settled_.fetch_add(1, std::memory_order_release);
  if (const int done_fd = done_fd_.load(); done_fd >= 0) {
    const std::uint64_t one = 1;
    ssize_t ignored = REAL(write)(done_fd, &one, sizeof one);
    (void)ignored;
  }
  close_done_fd_if_idle_locked();
  return n;
}

bool ConnectState::end_job(HandshakeJob* job) noexcept {
  std::lock_guard lock(mu_);
  job_.store(nullptr, std::memory_order_release);
  return --job->refs_ == 0;
}

HandshakeJob* ConnectState::pin_for_close() noexcept {
  std::lock_guard lock(mu_);
  n_watchers_ = 0;  // the number may be reused: its epoll registrations go
  HandshakeJob* job = job_.load(std::memory_order_relaxed);
  if (job != nullptr) ++job->refs_;
  return job;
}

void ConnectState::pin(HandshakeJob* job) noexcept {
  std::lock_guard lock(mu_);
  ++job->refs_;
}

bool ConnectState::unpin(HandshakeJob* job) noexcept {
  std::lock_guard lock(mu_);
  return --job->refs_ == 0;
}

// --- readiness ---

// Closes the eventfd once the handshake is over and no poll() holds it. With
// mu_ held: pollers take and leave it, and settle() ends the handshake, under
// that lock, so whoever is last closes it, before a poll() returns to the
// program (which must never see our descriptor outlive the handshake).
void ConnectState::close_done_fd_if_idle_locked() noexcept {
  if (pending_.load() || pollers_.load() != 0) return;
  if (done_fd_.load() >= 0) close_own_fd(done_fd_);  // ours: src/core/own_fds.hpp
}

int ConnectState::hold_done_fd() noexcept {
  std::lock_guard lock(mu_);  // against settle(): see there
  if (!pending_.load()) return -1;
  int done_fd = done_fd_.load();
  if (done_fd < 0) {
    // One of ours (src/core/own_fds.hpp): moved high, out of the program's reach.
    done_fd = adopt_own_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), done_fd_);
    if (done_fd < 0) return -1;
  }
  pollers_.fetch_add(1);
  return done_fd;
}

void ConnectState::release_done_fd() noexcept {
  std::lock_guard lock(mu_);
  pollers_.fetch_sub(1);
  close_done_fd_if_idle_locked();
}

int ConnectState::epoll_ctl(int epfd, int op, int fd, epoll_event* ev) noexcept {
  std::lock_guard lock(mu_);
  if (!pending_.load(std::memory_order_acquire)) return REAL(epoll_ctl)(epfd, op, fd, ev);
  int found = -1;
  for (int i = 0; i < n_watchers_; ++i) {
    if (watchers_[i].epfd == epfd) found = i;
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
      if (n_watchers_ == kMaxWatchers) {
        errno = ENOSPC;
        return -1;
      }
      watchers_[n_watchers_++] = {epfd, *ev};
      return 0;
    case EPOLL_CTL_MOD:
      if (found < 0 || ev == nullptr) break;
      watchers_[found].ev = *ev;
      return 0;
    case EPOLL_CTL_DEL:
      if (found < 0) break;
      watchers_[found] = watchers_[--n_watchers_];
      return 0;
    default:
      break;
  }
  return REAL(epoll_ctl)(epfd, op, fd, ev);
}

void ConnectState::forget_watchers() noexcept {
  std::lock_guard lock(mu_);
  n_watchers_ = 0;
}

}  // namespace socksify
