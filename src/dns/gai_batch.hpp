// getaddrinfo_a() and its companions (gai_error, gai_suspend, gai_cancel) when
// socksify resolves the requests itself (issue 10 item 3). Since glibc 2.34
// getaddrinfo_a lives in libc and its worker threads call libc's internal
// getaddrinfo, which LD_PRELOAD cannot see: their DNS queries would leave
// directly. So under remote DNS the whole batch is ours: each request is
// resolved at once, in the calling thread, by our getaddrinfo, which under
// remote DNS answers a name from the name table without any network I/O
// (fake_resolver.hpp; only a localhost or direct-rule name reaches libc, as
// the user asked, and then this call waits for it). Every request is
// complete when getaddrinfo_a returns, and only then is the notification the
// program asked for delivered (GAI_NOWAIT only, as glibc).
//
// The companions then answer as glibc 2.36 does for requests that are no
// longer in its list (measured on Debian 12): gai_error gives the request's
// result, gai_suspend returns EAI_ALLDONE at once (glibc's "no listed request
// in progress"; its loop never reaches the "0: one has finished" branch),
// gai_cancel returns EAI_ALLDONE.
//
// Pure: the resolver is passed in; the notification is returned as data for
// the shim to deliver (a signal, or a thread it starts only when asked).
#pragma once

#include <netdb.h>
#include <signal.h>

namespace socksify {

using ResolveFn = int (*)(const char* node, const char* service, const addrinfo* hints,
                          addrinfo** res);

enum class GaiNotify : unsigned char {
  None,    // GAI_WAIT, SIGEV_NONE, no sigevent, or a kind glibc ignores
  Signal,  // queue sig->sigev_signo with sig->sigev_value (si_code SI_ASYNCNL)
  Thread,  // call sig->sigev_notify_function(sig->sigev_value) on a new thread
};

struct GaiBatch {
  int rc = 0;     // getaddrinfo_a's return value
  int error = 0;  // errno to set when rc is EAI_SYSTEM
  GaiNotify notify = GaiNotify::None;
};

// Resolves every non-null request of list[0..ent) with resolve, setting its
// ar_result and its result code (what gai_error returns). A mode other than
// GAI_WAIT/GAI_NOWAIT is EAI_SYSTEM with EINVAL and touches nothing. As glibc,
// GAI_NOWAIT notifies also for a list without requests.
GaiBatch run_gai_batch(int mode, gaicb* list[], int ent, const sigevent* sig,
                       ResolveFn resolve) noexcept;

// gai_error() of a request run_gai_batch completed.
int gai_result(const gaicb* req) noexcept;

// gai_suspend() and gai_cancel() over requests that are all complete.
inline constexpr int kGaiAllDone = EAI_ALLDONE;

}  // namespace socksify
