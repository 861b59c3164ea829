// A map-backed EnvLookup for tests: no test touches the real environment.
#pragma once

#include <map>
#include <string>

#include "config/settings.hpp"

namespace socksify::testing {

class EnvMap {
 public:
  EnvMap(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}
  EnvLookup lookup() const {
    return [this](const char* name) -> const char* {
      const auto it = vars_.find(name);
      return it == vars_.end() ? nullptr : it->second.c_str();
    };
  }
  void set(const std::string& name, std::string value) { vars_[name] = std::move(value); }

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace socksify::testing
