// Interposed entry points: C linkage, default visibility (everything else in the
// library is hidden), and a uniform way back to the C calling convention.
#pragma once

#include <errno.h>

#include "core/result.hpp"

#define SOCKSIFY_HOOK extern "C" __attribute__((visibility("default")))

namespace socksify {

// 0 with errno untouched, or -1 with errno set: the libc convention.
inline int to_c(const Status& s) {
  if (s) return 0;
  errno = s.error().code;
  return -1;
}

}  // namespace socksify
