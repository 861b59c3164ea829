// `socksify --check`: shows the effective configuration, then tries every
// proxy step by step (TCP, greeting, RFC 1929 auth, CONNECT, UDP ASSOCIATE, BIND)
// with the library's own code, one verdict line per step:
//   "  tcp: ok (...)"  or  "  auth: FAILED: proxy rejected credentials (EACCES)"
// Runs in the launcher, which is not preloaded: the library's Runtime reads
// the same environment and config file the program would get.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace socksify {

struct CheckOptions {
  std::optional<std::string> target;   // --check-target HOST:PORT; default: each proxy itself
  std::vector<std::string> flag_vars;  // variables the launcher set from its flags
};

// 0 when the configuration loads and every check passes, 1 otherwise;
// 2 for a malformed --check-target.
int run_check(const CheckOptions& options);

}  // namespace socksify
