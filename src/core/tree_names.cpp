#include "core/tree_names.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/v4_mapped.hpp"
#include "core/errno_saver.hpp"
#include "core/log.hpp"
#include "dns/fake_range.hpp"
#include "dns/name_table.hpp"
#include "dns/shared_name_table.hpp"
#include "dns/tree_table_ref.hpp"

namespace socksify {

namespace {

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

// Every new name probes one random index entry, so without this nearly every
// early name of a process takes a page fault on the index. The launcher's
// keeper allocated those pages (tool/name_table_region.cpp); mapping them
// here is one call, a read fault per 16 pages (fault-around; a shared
// mapping of a memfd is writable from the first fault, so the CAS that
// follows takes none), tens of microseconds, at the first lookup. Best
// effort (EINVAL before Linux 5.14); SOCKSIFY_TREE_TABLE_PREFAULT=0 turns it
// off (the benchmark compares).
void prefault_index(const SharedNameTable& table) {
  if (const char* v = ::getenv("SOCKSIFY_TREE_TABLE_PREFAULT"); v != nullptr && v[0] == '0') return;
  const auto index = table.index_region();
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<std::uintptr_t>(index.data()) & ~(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(index.data() + index.size());
  ::madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_READ);
}

}  // namespace

std::unique_ptr<TreeNames> TreeNames::per_process(const Cidr& v4, const Cidr& v6,
                                                  std::size_t capacity) {
  std::unique_ptr<TreeNames> t(new TreeNames);
  t->own_ = std::make_unique<NameTable>(v4, v6, capacity);
  t->v4_ = fake_range::normalized(v4);
  t->v6_ = fake_range::normalized(v6);
  return t;
}

std::unique_ptr<TreeNames> TreeNames::tree(std::string path, const Cidr& v4, const Cidr& v6) {
  std::unique_ptr<TreeNames> t(new TreeNames);
  t->path_ = std::move(path);
  t->v4_ = fake_range::normalized(v4);
  t->v6_ = fake_range::normalized(v6);
  return t;
}

// The mapping stays for the life of the process (hooks may run during exit);
// the Runtime that owns us is never destroyed either. Only the small object
// that reads the mapping goes with us (tests destroy their TreeNames).
TreeNames::~TreeNames() {
  delete shared_.load(std::memory_order_acquire);
}

SharedNameTable* TreeNames::shared() const {
  if (own_) return nullptr;
  if (SharedNameTable* t = shared_.load(std::memory_order_acquire)) return t;
  return attach();
}

FakeNames* TreeNames::table() const {
  if (own_) return own_.get();
  return shared();
}

SharedNameTable* TreeNames::attach() const {
  ErrnoSaver keep;
  std::string_view why;
  int err = 0;
  SharedNameTable* result = nullptr;
  void* map = MAP_FAILED;
  std::size_t size = 0;
  const auto ref = parse_tree_table_ref(path_);
  if (!ref) {
    why = "the variable does not name /proc/PID/fd/N";
  } else {
    // Raw syscalls: our own open/close hooks have nothing to do with this fd.
    const int fd = static_cast<int>(
        ::syscall(SYS_openat, AT_FDCWD, path_.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (fd < 0) {
      err = errno;
      why = "cannot open it";
    } else {
      struct stat st {};
      if (::fstat(fd, &st) != 0) {
        err = errno;
        why = "cannot stat it";
      } else if (!S_ISREG(st.st_mode) || !plausible_region_size(st.st_size)) {
        why = "it is not a name table";
      } else {
        size = static_cast<std::size_t>(st.st_size);
        map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
          err = errno;
          why = "cannot map it";
        }
      }
      ::syscall(SYS_close, fd);
    }
  }
  if (map != MAP_FAILED) {
    auto attached = SharedNameTable::attach(std::span(static_cast<std::byte*>(map), size));
    if (!attached) {
      why = "it is not a name table of this version";
    } else if (const auto mismatch = tree_table_mismatch(*attached, v4_, v6_); !mismatch.empty()) {
      why = mismatch;
    } else {
      result = new (std::nothrow) SharedNameTable(*attached);
      if (result == nullptr) why = "out of memory";
      if (result != nullptr) prefault_index(*result);
    }
  }
  if (result == nullptr) {
    if (map != MAP_FAILED) ::munmap(map, size);
    if (!reported_.exchange(true)) {
      log::error(
          "cannot attach the tree's remote-DNS name table {}={}: {}{}{}; names fail in this "
          "process (fail closed: no lookup leaves it)",
          kTreeTableVariable, path_, why, err != 0 ? ": " : "",
          err != 0 ? log::errno_name(err) : std::string_view{});
    }
    return nullptr;
  }
  SharedNameTable* expected = nullptr;
  if (shared_.compare_exchange_strong(expected, result, std::memory_order_acq_rel)) return result;
  // Another thread attached first: use its table, drop ours.
  delete result;
  ::munmap(map, size);
  return expected;
}

// The table's side, from the table in use; with none (the tree's cannot be
// attached) every name fails: fail closed.
std::optional<std::uint64_t> TreeNames::number_for(std::string_view lowered) {
  FakeNames* t = table();
  return t != nullptr ? t->number_for(lowered) : std::nullopt;
}

std::optional<std::uint64_t> TreeNames::held_number(std::string_view lowered) const {
  const FakeNames* t = table();
  return t != nullptr ? t->held_number(lowered) : std::nullopt;
}

std::size_t TreeNames::name_of(std::uint64_t number, std::span<char> out) const {
  const FakeNames* t = table();
  return t != nullptr ? t->name_of(number, out) : 0;
}

bool TreeNames::serves(int family) const {
  const FakeNames* t = table();
  return t != nullptr && t->serves(family);
}

bool TreeNames::exhausted() const {
  const FakeNames* t = table();
  return t != nullptr && t->exhausted();
}

std::uint64_t TreeNames::address_count() const {
  const FakeNames* t = table();
  return t != nullptr ? t->address_count() : 0;
}

void TreeNames::lock_for_fork() {
  if (own_) own_->lock_for_fork();
}

void TreeNames::unlock_after_fork() {
  if (own_) own_->unlock_after_fork();
}

}  // namespace socksify
