// Which proxy of a pool a connection tries first (round_robin, random; the
// session fails over from there in pool order).
//
// Per process: each process of a tree keeps its own round-robin cursor, so a
// tree of many short-lived processes (a shell script running curl) spreads by
// the random start instead. The seam for tree-wide state (issue 10, the
// resident launcher's shared region) is pool_start(): a shared cursor replaces
// the counter below and nothing else changes.
#pragma once

#include <cstddef>

#include "config/route_rules.hpp"

namespace socksify {

// The position (0..size-1) to start at in route group `group`'s pool of `size`
// proxies. Failover and Chain always start at 0. Lock-free, no allocation.
std::size_t pool_start(std::size_t group, ProxyMode mode, std::size_t size) noexcept;

}  // namespace socksify
