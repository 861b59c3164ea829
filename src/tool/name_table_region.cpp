#include "tool/name_table_region.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dns/shared_name_table.hpp"
#include "dns/tree_table_ref.hpp"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace socksify {
namespace {

Message failure(const char* what) {
  return Message{
      fmt::format("cannot create the tree's name table: {}: {}", what, std::strerror(errno))};
}

bool prefault_wanted() {
  const char* v = std::getenv("SOCKSIFY_TREE_TABLE_PREFAULT");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

}  // namespace

Result<NameTableRegion, Message> create_name_table_region(const Cidr& v4, const Cidr& v6,
                                                          std::size_t capacity) {
  const std::size_t size = SharedNameTable::region_size(capacity);
  if (size == 0) return Message{"cannot create the tree's name table: bad capacity"};
  const int fd = ::memfd_create("socksify-names", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return failure("memfd_create");
  NameTableRegion region{fd, size, false};
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const Message m = failure("ftruncate");
    ::close(fd);
    return m;
  }
  // A truncated region would SIGBUS every process mapping it; a grown one is
  // harmless but pointless. Without sealing (EINVAL on old kernels, tmpfs
  // without it) the table still works: only a buggy process of the tree
  // could truncate it.
  region.sealed = ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0;
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    const Message m = failure("mmap");
    ::close(fd);
    return m;
  }
  auto table =
      SharedNameTable::create(std::span(static_cast<std::byte*>(map), size), v4, v6, capacity);
  if (!table) {
    ::munmap(map, size);
    ::close(fd);
    return Message{
        "cannot create the tree's name table: the fake_ipv4/fake_ipv6 ranges hold no "
        "address"};
  }
  ::munmap(map, size);
  return region;
}

void prefault_name_table_index(const NameTableRegion& region) {
  if (!prefault_wanted()) return;
  void* map = ::mmap(nullptr, region.size, PROT_READ | PROT_WRITE, MAP_SHARED, region.fd, 0);
  if (map == MAP_FAILED) return;
  if (auto table = SharedNameTable::attach(std::span(static_cast<std::byte*>(map), region.size))) {
    const auto index = table->index_region();
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto start = reinterpret_cast<std::uintptr_t>(index.data()) & ~(page - 1);
    const auto end = reinterpret_cast<std::uintptr_t>(index.data() + index.size());
    // Best effort (EINVAL before Linux 5.14): the table works without it.
    ::madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE);
  }
  ::munmap(map, region.size);
}

bool tree_table_reusable(const char* path, const Cidr& v4, const Cidr& v6) {
  if (path == nullptr || !parse_tree_table_ref(path)) return false;
  const int fd = ::open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = false;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && plausible_region_size(st.st_size)) {
    const auto size = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      // attach() only reads the header; the table itself is never used here.
      const auto table = SharedNameTable::attach(std::span(static_cast<std::byte*>(map), size));
      ok = table && tree_table_mismatch(*table, v4, v6).empty();
      ::munmap(map, size);
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace socksify
