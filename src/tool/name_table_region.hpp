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
// 64 Ki names, a 33.5 MiB region of which only touched pages are backed.
inline constexpr std::size_t kTreeTableCapacity = std::size_t{1} << 16;

struct NameTableRegion {
  int fd = -1;           // MFD_CLOEXEC: the program's processes never inherit it
  std::size_t size = 0;  // fixed: sealed against shrinking and growing
  bool sealed = false;   // false on a kernel without memfd sealing (still works)
};

// memfd_create, ftruncate to the region size, F_SEAL_SHRINK|F_SEAL_GROW|
// F_SEAL_SEAL (so no process of the tree can truncate it under the others,
// which would SIGBUS them), and SharedNameTable::create() on a mapping of
// it, dropped again (the launcher itself never resolves). An error text on
// failure.
Result<NameTableRegion, Message> create_name_table_region(const Cidr& v4, const Cidr& v6,
                                                          std::size_t capacity);

// Allocates the index pages of the region (1 MiB for 64 Ki names). Each new
// name writes one random index entry: without this nearly every early name
// costs a page allocation (zeroing) in the process that resolves it; with it
// the other processes take only a mapping fault, or none (core/tree_names.cpp
// maps the index at attach). The slots (32.5 MiB) fill in number order, one
// page per 8 names, and are backed a 1 MiB window at a time by the writers
// (SharedNameTable's "Pages"). The keeper calls it once
// the program runs, so it does not delay the start (about 0.3 ms idle).
// SOCKSIFY_TREE_TABLE_PREFAULT=0 turns it off (for the benchmark).
void prefault_name_table_index(const NameTableRegion& region);

// True when path (an inherited SOCKSIFY_NAME_TABLE) names a live tree table
// with these ranges: a socksify started inside another one's tree then uses
// that table instead of making its own, so that an address the outer tree
// handed out keeps its name in the inner one (and the other way round). The
// outer keeper, an ancestor, holds it for as long as the inner tree lives.
bool tree_table_reusable(const char* path, const Cidr& v4, const Cidr& v6);

}  // namespace socksify
