#include "core/async_connect.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <new>

#include "core/early_data.hpp"
#include "core/futex.hpp"
#include "core/guard.hpp"
#include "core/inline_handshake.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/session_io.hpp"
#include "core/socket_stream.hpp"
#include "core/vfork_child.hpp"

namespace socksify {

// The handshake of one connect(), run by a pool worker on the program's own
// descriptor number (no dup: a dup would count against the program's
// RLIMIT_NOFILE and outlive a close()). close() of the last descriptor cancels
// it synchronously; see close_pending(). Its phases and references are
// HandshakeJob's (src/core/connect_state.hpp); this adds what the pool needs.
struct ConnectJob : HandshakeJob {
  ConnectJob(int fd, FdState* s, const Endpoint& to, bool waits) noexcept
      : HandshakeJob(fd), state(s), target(to), blocking(waits) {}
  FdState* state;
  Endpoint target;
  bool blocking;  // a blocking connect() waits for it
  ~ConnectJob() { delete so_far; }
  // Begun on the caller's thread (connect_inline): its record, 8 KiB, only then.
  HandshakeSoFar* so_far = nullptr;
  ConnectJob* next = nullptr;         // the pool's queue
  ConnectJob* prev_active = nullptr;  // every job not yet deleted (for fork and
  ConnectJob* next_active = nullptr;  // numbers held after a close())
};

namespace {

std::atomic<int> g_pending{0};
std::atomic<int> g_held{0};  // jobs whose number close() left open for them
// A vfork child shares our memory but not our descriptor table: its close()
// must neither cancel the parent's handshake (shutdown() would end the
// parent's connection) nor keep a number for a worker it does not have.
bool in_owner_process() {
  return !in_vfork_child();
}

// Handshake workers, at most kMaxWorkers plus one per blocking connect() in
// flight (its thread waits anyway: 200 threads connecting at once must not
// queue behind 32 workers); beyond that, jobs wait in the queue (a silent
// proxy then delays later connections: their deadline starts when a worker
// takes them). Creating a thread inside connect() held the program's
// event loop for ~10-20 us (bench/event_loop_block); with a worker waiting,
// connect() only queues the job and wakes it. Workers are made on demand and
// leave after kIdleExit without work.
constexpr int kMaxWorkers = 32;
constexpr auto kIdleExit = std::chrono::seconds(10);

struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  ConnectJob* head = nullptr;
  ConnectJob* tail = nullptr;
  ConnectJob* active = nullptr;
  int queued = 0;
  int idle = 0;
  int workers = 0;
  int blocking = 0;  // jobs of blocking connect()s queued or running
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: workers may outlive exit handlers
  return *p;
}

void unlink_active(Pool& p, ConnectJob* job) {
  (job->prev_active != nullptr ? job->prev_active->next_active : p.active) = job->next_active;
  if (job->next_active != nullptr) job->next_active->prev_active = job->prev_active;
}

void delete_job(ConnectJob* job) {
  Pool& p = pool();
  {
    std::lock_guard lock(p.mu);
    unlink_active(p, job);
  }
  delete job;
}

// The worker's hold on job->fd ends: close() may now let the kernel free it.
// A number close() left to us (held) is closed here.
void release_fd(ConnectJob* job) {
  if (job->release()) {
    REAL(close)(job->fd());
    g_held.fetch_sub(1, std::memory_order_relaxed);
  }
}

// Publishes the outcome, re-arms the program's epoll registrations, then lets
// go of the number. The state keeps the job until then, so a close() meanwhile
// waits for us (close_pending) instead of freeing a number we still use.
// took_fd: the worker ran the handshake on job.fd (not skipped by close()).
void finish(ConnectJob& job, int error, bool took_fd) {
  ConnectState& c = job.state->connect;
  ConnectState::Watcher watchers[ConnectState::kMaxWatchers];
  // Registrations are re-armed on job.fd only while that number is still the
  // program's (not cancelled, not closed and held for us).
  const int n = c.settle(
      error, [&] { return took_fd && !job.cancelled() && !job.held(); }, watchers);
  // A blocking connect() may be waiting for this outcome (only those wait).
  if (c.blocking() && c.may_have_waiters()) futex_wake_all(&c.generation());
  // The registrations the program made meanwhile, made for real now: epoll
  // looks at the socket and wakes the program's epoll_wait if it is ready.
  for (int i = 0; i < n; ++i) {
    if (REAL(epoll_ctl)(watchers[i].epfd, EPOLL_CTL_ADD, job.fd(), &watchers[i].ev) != 0 &&
        errno == EEXIST) {
      REAL(epoll_ctl)(watchers[i].epfd, EPOLL_CTL_MOD, job.fd(), &watchers[i].ev);
    }
  }
  if (took_fd) release_fd(&job);  // while our reference keeps job alive
  const bool last = c.end_job(&job);
  // Counted until here, not until published: close_range() scans while any is.
  g_pending.fetch_sub(1, std::memory_order_relaxed);
  if (last) delete_job(&job);
}

// early_data on (core/early_data.hpp): the handshake's bytes are written and
// the connect is over for the program, which may write at once; its reads take
// the proxy's replies first. false when early data does not apply (the usual
// session runs).
bool start_early(ConnectJob* job, FdState* s) {
  SystemSessionIo io;
  auto early = send_early(Runtime::get(), io, job->fd(), job->target, s->connect.early());
  if (!early && early.error().code == EAGAIN) return false;
  t_handshake_cancelled = nullptr;
  log::t_quiet_if = nullptr;
  if (early) {
    (*early)->due.store(true, std::memory_order_release);  // before finish() publishes
    s->connect.set_early(*early);
  }
  finish(*job, early ? 0 : early.error().code, true);
  fd_table().put(s);
  return true;
}

// A session connect_inline() began, from where its window left it.
Result<socks5::Reply> resume_session(ConnectJob* job) {
  ResumedSessionIo io(*job->so_far);
  SessionOutcome outcome;
  SessionOptions options{/*may_replace_socket=*/false, nullptr, log_session};
  options.group = job->so_far->group;
  return open_session(Runtime::get(), io, job->fd(), socks5::Command::Connect, job->target, outcome,
                      options);
}

void run(ConnectJob* job) {
  // Take the job unless close() skipped it (then fd is not ours to touch).
  FdState* s = job->state;
  if (!job->take()) {
    finish(*job, ECANCELED, false);
    fd_table().put(s);
    return;
  }
  t_handshake_cancelled = job->cancelled_flag();
  log::t_quiet_if = job->cancelled_flag();
  if (!job->blocking && start_early(job, s)) return;
  auto reply = job->so_far != nullptr && job->so_far->handed_off()
                   ? resume_session(job)
                   : open_session(job->fd(), socks5::Command::Connect, job->target,
                                  /*may_replace_socket=*/false);
  t_handshake_cancelled = nullptr;
  log::t_quiet_if = nullptr;
  // Before finish() publishes: getsockname may answer with it (tcp_bind.hpp).
  if (reply) s->connect.set_proxy_end(reply->bound, s->peer.family());
  finish(*job, reply ? 0 : reply.error().code, true);
  fd_table().put(s);
}

void* worker(void* first) {
  ReentryGuard guard;  // everything this thread does goes straight to libc
  Pool& p = pool();
  ConnectJob* job = static_cast<ConnectJob*>(first);
  std::unique_lock lock(p.mu);
  for (;;) {
    while (p.head != nullptr) {
      job = p.head;
      p.head = job->next;
      if (p.head == nullptr) p.tail = nullptr;
      --p.queued;
      lock.unlock();
      const bool blocking = job->blocking;
      run(job);
      lock.lock();
      if (blocking) --p.blocking;
    }
    ++p.idle;
    const bool work = p.cv.wait_for(lock, kIdleExit, [&p] { return p.head != nullptr; });
    --p.idle;
    if (!work) {
      --p.workers;
      return nullptr;
    }
  }
}

bool spawn_worker() {
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
  const int rc = pthread_create(&tid, &attr, worker, nullptr);
  pthread_attr_destroy(&attr);
  return rc == 0;
}

// Queues job for a worker, making one if none is idle and the cap allows.
// false only if no worker exists and none can be made: nothing would ever run
// it (the job is then off the queue again).
void link_active(Pool& p, ConnectJob* job) {
  job->next_active = p.active;
  if (p.active != nullptr) p.active->prev_active = job;
  p.active = job;
}

// A job connect_inline() runs on the caller's thread is among the active ones
// from its start (close() may hold its number: see wait_for_held).
void add_active(ConnectJob* job) {
  Pool& p = pool();
  std::lock_guard lock(p.mu);
  link_active(p, job);
}

// linked: the job is among the active ones already (add_active).
bool dispatch(ConnectJob* job, bool linked = false) {
  Pool& p = pool();
  bool wake = false;
  {
    std::lock_guard lock(p.mu);
    job->next = nullptr;
    (p.tail != nullptr ? p.tail->next : p.head) = job;
    p.tail = job;
    ++p.queued;
    if (!linked) link_active(p, job);
    if (job->blocking) ++p.blocking;
    // An idle worker takes it (woken after the unlock, so it does not wake
    // only to wait for our lock), or the cap is reached and it waits its turn.
    wake = p.idle >= p.queued || p.workers >= kMaxWorkers + p.blocking;
    if (!wake) ++p.workers;
  }
  if (wake) {
    p.cv.notify_one();
    return true;
  }
  if (spawn_worker()) return true;
  std::lock_guard lock(p.mu);
  --p.workers;
  if (p.workers > 0) return true;  // one of them will take it
  // Still queued (no worker exists to have taken it): take it back out.
  ConnectJob** link = &p.head;
  ConnectJob* prev = nullptr;
  while (*link != nullptr && *link != job) {
    prev = *link;
    link = &(*link)->next;
  }
  if (*link == job) {
    *link = job->next;
    if (p.tail == job) p.tail = prev;
    --p.queued;
  }
  if (!linked) unlink_active(p, job);
  if (job->blocking) --p.blocking;
  return false;
}

}  // namespace

bool any_pending() noexcept {
  return g_pending.load(std::memory_order_relaxed) != 0;
}

void forget_pending_in_child() noexcept {
  g_pending.store(0, std::memory_order_relaxed);
  // No worker exists in the child; the jobs were the parent's. Numbers the
  // program had closed, held open for a parent's worker, are closed here.
  Pool& p = pool();
  if (g_held.load(std::memory_order_relaxed) != 0) {
    for (ConnectJob* job = p.active; job != nullptr; job = job->next_active) {
      if (job->held()) REAL(close)(job->fd());
    }
    g_held.store(0, std::memory_order_relaxed);
  }
  new (&p) Pool;
}

bool start_async_connect(int fd, FdState* s, const Endpoint& target, bool blocking) noexcept {
  // Every syscall here is time the program's event loop stands still (see
  // bench/event_loop_block): the eventfd is made only if a poll() waits.
  ConnectJob* job = new (std::nothrow) ConnectJob{fd, s, target, blocking};
  if (job == nullptr) return false;
  s->connect.begin(job, blocking);
  g_pending.fetch_add(1, std::memory_order_relaxed);
  fd_table().hold(s);
  if (dispatch(job)) return true;

  s->connect.abandon();
  g_pending.fetch_sub(1, std::memory_order_relaxed);
  fd_table().put(s);
  delete job;
  return false;
}

namespace {

// While connect_inline's session runs: its record, so that the failure the
// window's end causes is not reported (the worker's session reports the real one).
thread_local const HandshakeSoFar* t_inline_so_far = nullptr;

void report_unless_handed_off(const SessionOutcome& outcome, const SessionAttempt* failed) {
  if (t_inline_so_far != nullptr && t_inline_so_far->handed_off()) return;
  log_session(outcome, failed);
}

Result<socks5::Reply> inline_session(ConnectJob* job) {
  InlineSessionIo io(*job->so_far, Clock::now() + kInlineWindow);
  SessionOutcome outcome;
  SessionOptions options{/*may_replace_socket=*/false, nullptr, report_unless_handed_off};
  options.group = job->so_far->group;
  t_inline_so_far = job->so_far;
  auto reply = open_session(Runtime::get(), io, job->fd(), socks5::Command::Connect, job->target,
                            outcome, options);
  t_inline_so_far = nullptr;
  return reply;
}

}  // namespace

bool connect_inline(int fd, FdState* s, const Endpoint& target, int flags, int family,
                    std::size_t group) noexcept {
  ConnectJob* job = new (std::nothrow) ConnectJob{fd, s, target, true};
  if (job == nullptr) return false;
  job->so_far = new (std::nothrow) HandshakeSoFar;
  if (job->so_far == nullptr) {
    delete job;
    return false;
  }
  job->so_far->flags = flags;
  job->so_far->family = family;
  job->so_far->group = group;
  s->connect.begin(job, true);
  g_pending.fetch_add(1, std::memory_order_relaxed);
  fd_table().hold(s);
  add_active(job);
  // This thread is the job's worker from here: a close() from another thread
  // cancels it as it would a worker's (shutdown, then waits for release_fd).
  if (!job->take()) {
    finish(*job, ECANCELED, false);
    fd_table().put(s);
    return true;
  }
  t_handshake_cancelled = job->cancelled_flag();
  log::t_quiet_if = job->cancelled_flag();
  auto reply = inline_session(job);
  if (job->so_far->handed_off()) {
    t_handshake_cancelled = nullptr;
    log::t_quiet_if = nullptr;
    // The worker takes over our hold on s; the job may be gone once queued.
    if (dispatch(job, /*linked=*/true)) return true;  // the caller waits (await_handshake)
    // No worker to be had: EAGAIN, as when none is there to start with, rather
    // than hold the caller (and its signals) for the rest of the handshake.
    SystemSessionIo io;
    io.disconnect(fd);
    io.set_status_flags(fd, job->so_far->flags);
    log::error("connect to {}: no handshake worker could be started", target);
    reply = Errno{EAGAIN};
  }
  t_handshake_cancelled = nullptr;
  log::t_quiet_if = nullptr;
  if (reply) s->connect.set_proxy_end(reply->bound, s->peer.family());
  finish(*job, reply ? 0 : reply.error().code, true);
  fd_table().put(s);
  return true;
}

namespace {

// The outcome of s's finished handshake, reported by connect() itself (not by
// SO_ERROR again). Out of line: await_handshake's own frame must hold nothing
// to destroy while it waits (see there).
__attribute__((noinline)) Status take_outcome(FdState* s) noexcept {
  if (const int e = s->connect.take_outcome(); e != 0) return Errno{e};
  return {};
}

// pthread_setcanceltype, through a type that may throw: with asynchronous
// cancellation enabled, a cancel already pending is acted on inside the call,
// which glibc declares __THROW (see SyscallFn).
using SetCancelTypeFn = int (*)(int, int*);

}  // namespace

Status await_handshake(FdState* s) {
  // pthread_cancel() unwinds out of this frame with abi::__forced_unwind, driven
  // by the system's libgcc_s through the unwinder copy linked into us (primed at
  // start-up, see init.cpp). Nothing here, or in the frames up to the hook,
  // needs a landing pad all the same (no object with a destructor alive across
  // the wait, no try/catch, no noexcept): the unwind has nothing of ours to undo.
  const auto set_cancel_type = reinterpret_cast<SetCancelTypeFn>(&pthread_setcanceltype);
  s->connect.add_waiter();
  for (;;) {
    const std::uint32_t seen = s->connect.generation().load(std::memory_order_acquire);
    if (!s->connect.connecting()) break;
    // A cancellation point, like the kernel's connect(): glibc acts on a
    // cancel only while the type is asynchronous, as its own blocking calls
    // set it around the syscall. FUTEX_WAIT without a timeout is restarted
    // after a handler installed with SA_RESTART and fails with EINTR
    // otherwise: connect()'s own semantics. A siglongjmp out of the wait
    // restores the type (src/shim/longjmp.cpp).
    int old_type = PTHREAD_CANCEL_DEFERRED;
    t_async_cancel_old_type = PTHREAD_CANCEL_DEFERRED;
    t_async_cancel_frame = &old_type;
    set_cancel_type(PTHREAD_CANCEL_ASYNCHRONOUS, &old_type);
    t_async_cancel_old_type = old_type;
    const long rc = futex(&s->connect.generation(), FUTEX_WAIT, seen);
    const int err = errno;
    set_cancel_type(old_type, &old_type);
    t_async_cancel_frame = nullptr;
    if (rc != 0 && err == EINTR) {
      s->connect.remove_waiter();
      return Errno{EINTR};
    }
  }
  s->connect.remove_waiter();
  return take_outcome(s);
}

bool close_pending(int fd, FdState* s) noexcept {
  if (!in_owner_process()) return false;  // a vfork child: see in_owner_process
  HandshakeJob* job = s->connect.pin_for_close();
  if (job == nullptr) return false;
  // Descriptors plus the worker's hold: 2 means this is the socket's last.
  const bool last_descriptor = s->refs.load(std::memory_order_relaxed) <= 2;
  bool keep_open = false;
  if (last_descriptor) {
    // Nobody can use this handshake any more: stop it now, before the number
    // can be reused. shutdown() wakes the worker's poll() at once.
    if (job->cancel() == HandshakeJob::Cancel::Running) {
      ::shutdown(fd, SHUT_RDWR);
      job->wait_until_released();
    }
  } else if (job->fd() == fd && job->hold()) {
    // Another descriptor goes on with the handshake, which works on this
    // number: keep it open (ours now, close-on-exec) until the worker is done.
    keep_open = true;
    g_held.fetch_add(1, std::memory_order_relaxed);
    REAL(fcntl)(fd, F_SETFD, FD_CLOEXEC);
  }
  if (s->connect.unpin(job)) delete_job(static_cast<ConnectJob*>(job));
  return keep_open;
}

void wait_for_held(unsigned first, unsigned last) noexcept {
  if (g_held.load(std::memory_order_relaxed) == 0 || !in_owner_process()) return;
  // Rare: the program replaces (dup2) or closes (close_range) numbers it had
  // closed while their handshake went on for another descriptor. Wait until
  // the workers hand those numbers back (at the handshake's end), so the
  // kernel never frees a number under a worker still using it.
  for (int round = 0; round < 1024; ++round) {
    ConnectJob* found = nullptr;
    {
      Pool& pl = pool();
      std::lock_guard lock(pl.mu);
      for (ConnectJob* job = pl.active; job != nullptr && found == nullptr;
           job = job->next_active) {
        const auto n = static_cast<unsigned>(job->fd());
        if (job->held() && n >= first && n <= last) found = job;
      }
      if (found == nullptr) return;
      found->state->connect.pin(found);
    }
    found->wait_until_unheld();
    if (found->state->connect.unpin(found)) delete_job(found);
  }
}

}  // namespace socksify
