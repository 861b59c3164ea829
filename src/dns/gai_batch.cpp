#include "dns/gai_batch.hpp"

#include <errno.h>

namespace socksify {

GaiBatch run_gai_batch(int mode, gaicb* list[], int ent, const sigevent* sig,
                       ResolveFn resolve) noexcept {
  if (mode != GAI_WAIT && mode != GAI_NOWAIT) return GaiBatch{EAI_SYSTEM, EINVAL, GaiNotify::None};
  for (int i = 0; i < ent; ++i) {
    gaicb* req = list[i];
    if (req == nullptr) continue;
    req->ar_result = nullptr;
    req->__return = resolve(req->ar_name, req->ar_service, req->ar_request, &req->ar_result);
  }
  GaiBatch out;
  if (mode == GAI_NOWAIT && sig != nullptr) {
    if (sig->sigev_notify == SIGEV_SIGNAL) out.notify = GaiNotify::Signal;
    if (sig->sigev_notify == SIGEV_THREAD) out.notify = GaiNotify::Thread;
  }
  return out;
}

int gai_result(const gaicb* req) noexcept {
  return req != nullptr ? req->__return : EAI_SYSTEM;
}

}  // namespace socksify
