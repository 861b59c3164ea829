// How a process of a tree the launcher started finds the tree's remote-DNS
// name table (issue 10 item 1): SOCKSIFY_NAME_TABLE=/proc/<pid>/fd/<n>, the
// memfd the launcher's resident keeper holds (tool/resident_parent.hpp). A
// process opens that path at its first use of the table (no fd or thread at
// start-up), maps the region MAP_SHARED and closes the fd again
// (core/tree_names.cpp). Pure: the text of the variable, and the checks on
// what was mapped.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/cidr.hpp"

namespace socksify {

class SharedNameTable;

inline constexpr const char* kTreeTableVariable = "SOCKSIFY_NAME_TABLE";

struct TreeTableRef {
  pid_t pid = 0;  // the keeper holding the memfd
  int fd = -1;    // its descriptor there
  bool operator==(const TreeTableRef&) const = default;
};

// "/proc/<pid>/fd/<fd>".
std::string format_tree_table_ref(const TreeTableRef& ref);

// The exact form format_tree_table_ref writes: decimal pid > 0 and fd >= 0,
// no sign, no leading zero, nothing around them, each fitting its type.
// Anything else is nullopt: the variable names a file we open read-write and
// map, so nothing but a keeper's descriptor is accepted.
std::optional<TreeTableRef> parse_tree_table_ref(std::string_view text);

// Whether a file of st_size bytes can hold a table at all (the smallest to
// the largest SharedNameTable::region_size); attach() then checks the exact
// size against the header. Keeps a bogus file from being mapped whole.
bool plausible_region_size(std::int64_t st_size);

// Empty when the attached table serves this process's configuration; else
// why not (its ranges differ from fake_ipv4/fake_ipv6 as this process reads
// them: the tree's addresses would mean other names here).
std::string_view tree_table_mismatch(const SharedNameTable& table, const Cidr& v4, const Cidr& v6);

}  // namespace socksify
