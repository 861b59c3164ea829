// Saves errno and puts it back on scope exit: our own syscalls must not change
// what the program sees unless we mean to.
#pragma once

#include <errno.h>

namespace socksify {

class ErrnoSaver {
 public:
  ErrnoSaver() : saved_(errno) {}
  ~ErrnoSaver() { errno = saved_; }
  ErrnoSaver(const ErrnoSaver&) = delete;
  ErrnoSaver& operator=(const ErrnoSaver&) = delete;

 private:
  int saved_;
};

}  // namespace socksify
