#include "core/own_fds.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <new>

#include "core/errno_saver.hpp"
#include "core/fd_table.hpp"
#include "core/guard.hpp"
#include "core/log.hpp"
#include "core/real.hpp"

namespace socksify {

static_assert(OwnFds::kCapacity == FdTable::kCapacity);

namespace {

// select() takes descriptors below FD_SETSIZE only: a program that uses it
// must find every one of those numbers free for itself.
constexpr int kSelectLimit = 1024;

}  // namespace

// Programs take the lowest free number, so ours go above the numbers they use
// first: from 1024 when the limit is above 1024 + 256 (no number select()
// could use is taken), else the upper half (the limit is small: 1024 by
// default, 64 under `ulimit -n 64`; a program reaches half of it rarely, and
// then only skips our numbers). Not nearer the limit: the kernel's table of
// descriptors grows to the highest number in use, and under a limit of 2^20
// (containers) one of ours near the top made every program hold an 8 MiB table
// (a program that holds more than 1024 files meets ours early and only skips
// them, as it would under a smaller limit).
int own_fd_floor_for(rlim_t soft_limit, int capacity) noexcept {
  rlim_t limit =
      soft_limit == 0 || soft_limit == RLIM_INFINITY ? static_cast<rlim_t>(capacity) : soft_limit;
  limit = std::min(limit, static_cast<rlim_t>(capacity));
  const int n = static_cast<int>(limit);
  if (n >= kSelectLimit + 256) return kSelectLimit;
  return std::max(3, n / 2);
}

constinit OwnFds detail::g_own_fds;

OwnFds::Entry* OwnFds::entry(int fd) const noexcept {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kCapacity)) return nullptr;
  Chunk* c = dir_[fd >> kChunkBits].load(std::memory_order_acquire);
  return c != nullptr ? &c->e[fd & (kChunk - 1)] : nullptr;
}

OwnFds::Entry* OwnFds::entry_or_make_locked(int fd) noexcept {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kCapacity)) return nullptr;
  std::atomic<Chunk*>& slot = dir_[fd >> kChunkBits];
  Chunk* c = slot.load(std::memory_order_relaxed);
  if (c == nullptr) {
    c = new (std::nothrow) Chunk;
    if (c == nullptr) return nullptr;
    slot.store(c, std::memory_order_release);
  }
  return &c->e[fd & (kChunk - 1)];
}

bool OwnFds::is_own(int fd) const noexcept {
  const Entry* e = entry(fd);
  return e != nullptr && e->holder.load(std::memory_order_acquire) != nullptr;
}

// What the number refers to: a socket's SO_COOKIE is unique for the kernel's
// lifetime; every file has a device and inode (eventfds share one anonymous
// inode, which still tells them from the program's files and pipes).
bool OwnFds::identify(int fd, Identity& id) noexcept {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  id = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), 0};
  if (S_ISSOCK(st.st_mode)) {
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (REAL(getsockopt)(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) == 0) id.cookie = cookie;
  }
  return true;
}

namespace {

// Where our descriptors go under the current soft limit.
int high_floor() {
  rlimit rl{};
  const rlim_t soft = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 0;
  return own_fd_floor_for(soft, OwnFds::kCapacity);
}

// A close-on-exec duplicate of fd at the lowest free number >= at that we can
// track, or -1.
int dup_at_least(int fd, int at) {
  const int d = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, at);
  if (d >= OwnFds::kCapacity) {
    REAL(close)(d);
    return -1;
  }
  return d;
}

}  // namespace

// fd at a high number (see own_fd_floor_for); fd itself when it is there
// already or no number there is free (it stays where it is, still protected).
int OwnFds::move_high_locked(int fd) noexcept {
  const int floor = high_floor();
  if (fd >= floor) return fd;
  const int high = dup_at_least(fd, floor);
  if (high < 0) return fd;
  REAL(close)(fd);
  return high;
}

void OwnFds::make_room(int fd) noexcept {
  if (room_made_.load(std::memory_order_relaxed) || room_made_.exchange(true)) return;
  ErrnoSaver keep;
  // A number at the floor makes the table that large; the number itself is
  // not kept (REAL close: never the program's, F_DUPFD chose a free one).
  const int d = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, high_floor());
  if (d >= 0) REAL(close)(d);
}

void OwnFds::record_locked(int fd, Entry& e, std::atomic<int>* holder) noexcept {
  e.holder.store(holder, std::memory_order_release);
  if (fd < floor_.load(std::memory_order_relaxed)) floor_.store(fd, std::memory_order_relaxed);
  ceiling_ = std::max(ceiling_, fd);
}

void OwnFds::forget_locked(Entry& e) noexcept {
  e.holder.store(nullptr, std::memory_order_release);
  if (count_.fetch_sub(1, std::memory_order_relaxed) == 1) {
    floor_.store(INT_MAX, std::memory_order_relaxed);
    ceiling_ = -1;
  }
}

void OwnFds::take_locked(int fd, std::atomic<int>& holder) noexcept {
  Entry* e = entry_or_make_locked(fd);
  if (e != nullptr && identify(fd, e->id)) {
    count_.fetch_add(1, std::memory_order_relaxed);
    record_locked(fd, *e, &holder);
  }
  // else unrecorded (no memory): still ours, closed as before, just not protected.
  holder.store(fd, std::memory_order_release);
}

namespace {

// A state left at our new number by a close we never saw (a raw syscall) is
// not ours to keep: the program's calls on it must find nothing. Called
// outside the registry's lock: releasing a UDP state closes its control
// connection through the registry.
void forget_stale_state(int fd) {
  if (fd_table().get(fd) != nullptr) fd_table().release(fd);
}

}  // namespace

int OwnFds::adopt(int fd, std::atomic<int>& holder) noexcept {
  if (fd < 0) {
    holder.store(fd, std::memory_order_release);
    return fd;
  }
  ErrnoSaver keep;
  {
    std::lock_guard lock(mu_);
    fd = move_high_locked(fd);
    take_locked(fd, holder);
  }
  forget_stale_state(fd);
  return fd;
}

int OwnFds::adopt_dup(int fd, std::atomic<int>& holder) noexcept {
  const int saved = errno;
  int d = -1;
  {
    std::lock_guard lock(mu_);
    d = dup_at_least(fd, high_floor());
    if (d < 0) d = dup_at_least(fd, 3);  // nothing free up there
    if (d < 0) {
      holder.store(-1, std::memory_order_release);
      return -1;  // with fcntl's errno
    }
    take_locked(d, holder);
  }
  forget_stale_state(d);
  errno = saved;
  return d;
}

void OwnFds::renew(std::atomic<int>& holder) noexcept {
  ErrnoSaver keep;
  std::lock_guard lock(mu_);
  const int fd = holder.load(std::memory_order_acquire);
  if (Entry* e = entry(fd); e != nullptr && e->holder.load(std::memory_order_relaxed) == &holder) {
    identify(fd, e->id);
  }
}

void OwnFds::hand_over(std::atomic<int>& from, std::atomic<int>& to) noexcept {
  std::lock_guard lock(mu_);
  const int fd = from.exchange(-1, std::memory_order_acq_rel);
  to.store(fd, std::memory_order_release);
  if (Entry* e = entry(fd); e != nullptr && e->holder.load(std::memory_order_relaxed) == &from) {
    e->holder.store(&to, std::memory_order_release);
  }
}

void OwnFds::close(std::atomic<int>& holder) noexcept {
  ErrnoSaver keep;
  int lost = -1;
  {
    // Closed under the lock: once the entry is gone, the number is the
    // program's to close and reuse, and ours must be shut before that.
    std::lock_guard lock(mu_);
    const int fd = holder.exchange(-1, std::memory_order_acq_rel);
    if (fd < 0) return;
    Entry* e = entry(fd);
    std::atomic<int>* const recorded =
        e != nullptr ? e->holder.load(std::memory_order_relaxed) : nullptr;
    if (recorded == nullptr) {
      REAL(close)(fd);  // never recorded (adopt ran out of memory, or never adopted)
      return;
    }
    if (recorded != &holder) return;  // not this holder's number: never close it
    Identity now;
    const bool same = identify(fd, now) && now == e->id;
    forget_locked(*e);
    if (same) {
      REAL(close)(fd);
    } else {
      lost = fd;
    }
  }
  if (lost >= 0) {
    log::warn(
        "descriptor {} was socksify's but has been closed behind its back (a raw close "
        "syscall?); leaving what is there now open",
        lost);
  }
}

bool OwnFds::vacate(int fd) noexcept {
  if (!is_own(fd)) return false;
  ErrnoSaver keep;
  std::lock_guard lock(mu_);
  Entry* e = entry(fd);
  std::atomic<int>* const holder =
      e != nullptr ? e->holder.load(std::memory_order_relaxed) : nullptr;
  if (holder == nullptr) return false;
  int moved = dup_at_least(fd, high_floor());
  if (moved < 0) moved = dup_at_least(fd, 3);  // nothing free up there
  Entry* to = moved >= 0 ? entry_or_make_locked(moved) : nullptr;
  if (to == nullptr) {
    // Nowhere to go: the program's dup2 takes the number and our descriptor
    // with it. Its owner finds -1 (a dead association: ECONNRESET, never a
    // datagram sent around the proxy) and closes nothing of the program's.
    if (moved >= 0) REAL(close)(moved);
    forget_locked(*e);
    holder->store(-1, std::memory_order_release);
    return true;
  }
  to->id = e->id;
  record_locked(moved, *to, holder);  // recorded before fd is forgotten: is_own never misses it
  e->holder.store(nullptr, std::memory_order_release);
  holder->store(moved, std::memory_order_release);
  REAL(close)(fd);  // the program's dup2 takes the number next
  return true;
}

int OwnFds::close_range_sparing(unsigned first, unsigned last, int flags) noexcept {
  std::lock_guard lock(mu_);  // no descriptor of ours appears in a gap meanwhile
  int rc = 0;
  int err = 0;
  const auto piece = [&](unsigned a, unsigned b) {
    if (REAL(close_range)(a, b, flags) != 0 && rc == 0) {
      rc = -1;
      err = errno;
    }
  };
  unsigned from = first;
  const int floor = floor_.load(std::memory_order_relaxed);
  const unsigned scan_lo = std::max(first, static_cast<unsigned>(std::max(floor, 0)));
  const unsigned scan_hi = ceiling_ < 0 ? 0 : std::min(last, static_cast<unsigned>(ceiling_));
  for (unsigned fd = scan_lo; ceiling_ >= 0 && fd <= scan_hi;) {
    Chunk* c = dir_[fd >> kChunkBits].load(std::memory_order_relaxed);
    if (c == nullptr) {  // a whole chunk with nothing of ours
      fd = ((fd >> kChunkBits) + 1) << kChunkBits;
      continue;
    }
    if (c->e[fd & (kChunk - 1)].holder.load(std::memory_order_relaxed) != nullptr) {
      if (from < fd) piece(from, fd - 1);
      from = fd + 1;
    }
    ++fd;
  }
  if (from <= last) piece(from, last);  // from <= kCapacity: never wrapped
  if (rc != 0) errno = err;
  return rc;
}

}  // namespace socksify
