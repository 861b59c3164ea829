// An invariant check for fuzz targets: a violated property is a crash that
// libFuzzer records, even in builds where assert() is compiled out.
#pragma once

#include <cstdio>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap();                                                                  \
    }                                                                                    \
  } while (0)
