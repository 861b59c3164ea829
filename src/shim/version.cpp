// socksify_version(): which library a program got, for programs that link it
// and for bug reports.
#include "shim/export.hpp"

#ifndef SOCKSIFY_VERSION
#error "SOCKSIFY_VERSION must be defined by the build"
#endif

SOCKSIFY_HOOK const char* socksify_version(void) {
  return SOCKSIFY_VERSION;
}
