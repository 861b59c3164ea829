// A per-thread flag that is set while socksify's own code runs. Hooks reached
// from inside it (libc's resolver calling connect() for its DNS socket while we
// resolve the proxy's name, for instance) go straight to libc.
#pragma once

namespace socksify {

// initial-exec TLS (see src/CMakeLists.txt): reading it never allocates.
inline thread_local bool t_inside = false;

class ReentryGuard {
 public:
  ReentryGuard() : was_(t_inside) { t_inside = true; }
  ~ReentryGuard() { t_inside = was_; }
  ReentryGuard(const ReentryGuard&) = delete;
  ReentryGuard& operator=(const ReentryGuard&) = delete;
  static bool active() { return t_inside; }

 private:
  bool was_;
};

// Saves errno and puts it back on scope exit: our own syscalls must not change
// what the program sees unless we mean to.
class ErrnoSaver {
 public:
  ErrnoSaver();
  ~ErrnoSaver();
  ErrnoSaver(const ErrnoSaver&) = delete;
  ErrnoSaver& operator=(const ErrnoSaver&) = delete;

 private:
  int saved_;
};

}  // namespace socksify
