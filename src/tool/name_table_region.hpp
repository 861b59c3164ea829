// The launcher's side of the tree-wide name table (issue 10 item 1): the
// memfd holding the SharedNameTable region, created once before the program
// starts and held by the resident keeper (resident_parent.hpp), whose
// /proc/<pid>/fd/<n> every process of the tree opens at its first use
// (dns/tree_table_ref.hpp, core/tree_names.hpp).
#pragma once

#include <cstddef>

#include "base/cidr.hpp"
#include "base/result.hpp"

namespace socksify {

// Names the launcher's table holds at once (as the per-process table):
// 64 Ki names, a 34.6 MiB region of which only touched pages are backed.
inline constexpr std::size_t kTreeTableCapacity = std::size_t{1} << 16;

struct NameTableRegion {
  int fd = -1;           // MFD_CLOEXEC: the program's processes never inherit it
  std::size_t size = 0;  // fixed: sealed against shrinking and growing
  bool sealed = false;   // false on a kernel without memfd sealing (still works)
};

// memfd_create, ftruncate to the region size, F_SEAL_SHRINK|F_SEAL_GROW|
// F_SEAL_SEAL (so no process of the tree can truncate it under the others,
// which would SIGBUS them), SharedNameTable::create() on a mapping of it, and
// the index pages pre-faulted into the memfd (SOCKSIFY_TREE_TABLE_PREFAULT=0
// turns that off, for the benchmark). The mapping is dropped again: the
// launcher itself never resolves. An error text on failure.
Result<NameTableRegion, Message> create_name_table_region(const Cidr& v4, const Cidr& v6,
                                                          std::size_t capacity);

}  // namespace socksify
