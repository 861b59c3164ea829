// A per-thread flag that is set while socksify's own code runs. Hooks reached
// from inside it (libc's resolver calling connect() for its DNS socket while we
// resolve the proxy's name, for instance) go straight to libc.
#pragma once

namespace socksify {

// initial-exec TLS (see src/CMakeLists.txt): reading it never allocates.
inline thread_local bool t_inside = false;
// The outermost active guard's address (a stack address of the frame holding
// it): a siglongjmp to a frame above it skips the guard's destructor, so the
// longjmp hooks (src/shim/longjmp.cpp) clear the flag instead.
inline thread_local const void* t_inside_frame = nullptr;

class ReentryGuard {
 public:
  ReentryGuard() : was_(t_inside) {
    if (!was_) t_inside_frame = this;
    t_inside = true;
  }
  ~ReentryGuard() {
    t_inside = was_;
    if (!was_) t_inside_frame = nullptr;
  }
  ReentryGuard(const ReentryGuard&) = delete;
  ReentryGuard& operator=(const ReentryGuard&) = delete;
  static bool active() { return t_inside; }

 private:
  bool was_;
};

// Set while a blocking connect() waits with asynchronous cancellation enabled
// (await_handshake): the frame's address and the type to restore, for a
// siglongjmp out of the wait (src/shim/longjmp.cpp).
inline thread_local const void* t_async_cancel_frame = nullptr;
inline thread_local int t_async_cancel_old_type = 0;

}  // namespace socksify
