// A Runtime loaded from a test's own variables (never the real environment).
#pragma once

#include <map>
#include <string>

#include "core/runtime.hpp"
#include "core/tree_names.hpp"  // Runtime owns one

namespace socksify::testing {

inline Runtime runtime(const std::map<std::string, std::string>& env) {
  Runtime rt;
  rt.load([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  return rt;
}

}  // namespace socksify::testing
