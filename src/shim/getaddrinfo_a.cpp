// getaddrinfo_a, gai_error, gai_suspend and gai_cancel (libc since glibc 2.34,
// also under their libanl GLIBC_2.2.5 versions: an unversioned definition
// satisfies both). glibc's workers call libc's internal getaddrinfo, out of
// our reach, so under remote DNS the batch is resolved here by our own
// getaddrinfo, and the companions answer for it (dns/gai_batch.hpp). With
// local DNS the originals run, all four, so glibc's request list stays
// consistent.
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/errno_saver.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/real.hpp"
#include "core/resolve_policy.hpp"
#include "dns/gai_batch.hpp"
#include "shim/export.hpp"

namespace {

// Whether the batch calls are ours: the same answer for getaddrinfo_a and its
// companions in one process (the configuration does not change), so a request
// is always asked about where it was submitted.
bool ours(bool report) {
  return socksify::resolver_call_policy(report) != socksify::Lookup::Real;
}

// glibc's __gai_sigqueue: the signal is queued to the process with si_code
// SI_ASYNCNL, the caller's pid and uid, and the program's value.
void queue_signal(const sigevent& sig) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  info.si_signo = sig.sigev_signo;
  info.si_code = SI_ASYNCNL;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value = sig.sigev_value;
  if (::syscall(SYS_rt_sigqueueinfo, info.si_pid, sig.sigev_signo, &info) != 0) {
    socksify::log::warn("getaddrinfo_a: cannot queue signal {} for the program", sig.sigev_signo);
  }
}

struct ThreadNotice {
  void (*fn)(sigval);
  sigval value;
};

// Not noexcept: the program's function may call pthread_exit (a forced unwind).
void* notice_thread(void* arg) {
  const ThreadNotice notice = *static_cast<ThreadNotice*>(arg);
  std::free(arg);  // the sigevent may be gone already: we kept a copy
  notice.fn(notice.value);
  return nullptr;
}

// glibc's __gai_notify_only for SIGEV_THREAD: the program's attributes, or a
// detached thread.
void start_thread(const sigevent& sig) {
  if (sig.sigev_notify_function == nullptr) return;
  auto* notice = static_cast<ThreadNotice*>(std::malloc(sizeof(ThreadNotice)));
  if (notice == nullptr) return;
  *notice = ThreadNotice{sig.sigev_notify_function, sig.sigev_value};
  pthread_attr_t own;
  pthread_attr_t* attr = sig.sigev_notify_attributes;
  if (attr == nullptr) {
    pthread_attr_init(&own);
    pthread_attr_setdetachstate(&own, PTHREAD_CREATE_DETACHED);
    attr = &own;
  }
  pthread_t tid;
  const int rc = pthread_create(&tid, attr, notice_thread, notice);
  if (attr == &own) pthread_attr_destroy(&own);
  if (rc != 0) {
    std::free(notice);
    socksify::log::warn("getaddrinfo_a: cannot start the notification thread (error {})", rc);
  }
}

}  // namespace

SOCKSIFY_HOOK int getaddrinfo_a(int mode, gaicb* list[], int ent, sigevent* sig) {
  if (!ours(true)) {
    socksify::ReentryGuard guard;
    return REAL_LAZY(getaddrinfo_a)(mode, list, ent, sig);
  }
  socksify::GaiBatch batch;
  {
    socksify::ErrnoSaver keep;
    batch = socksify::run_gai_batch(mode, list, ent, sig, &Rgetaddrinfo);
    if (batch.notify == socksify::GaiNotify::Signal) queue_signal(*sig);
    if (batch.notify == socksify::GaiNotify::Thread) start_thread(*sig);
  }
  if (batch.rc == EAI_SYSTEM) errno = batch.error;
  return batch.rc;
}

SOCKSIFY_HOOK int gai_error(gaicb* req) {
  if (!ours(false)) return REAL_LAZY(gai_error)(req);
  return socksify::gai_result(req);
}

SOCKSIFY_HOOK int gai_suspend(const gaicb* const list[], int ent, const timespec* timeout) {
  if (!ours(false)) return REAL_LAZY(gai_suspend)(list, ent, timeout);
  return socksify::kGaiAllDone;  // every request of ours is complete
}

SOCKSIFY_HOOK int gai_cancel(gaicb* req) {
  if (!ours(false)) return REAL_LAZY(gai_cancel)(req);
  return socksify::kGaiAllDone;
}

#if defined(__i386__)
// i386 programs built with -D_TIME_BITS=64 call this name instead.
extern "C" int __gai_suspend_time64(const gaicb* const list[], int ent, const void* timeout);
SOCKSIFY_HOOK int __gai_suspend_time64(const gaicb* const list[], int ent, const void* timeout) {
  if (!ours(false)) return REAL_LAZY(__gai_suspend_time64)(list, ent, timeout);
  return socksify::kGaiAllDone;
}
#endif
