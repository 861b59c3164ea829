// The settings a process runs with: the config file found by the search order
// (SOCKSIFY_CONF_FILE, which the launcher's -f sets; then the user's and the
// system's file), with the environment layered over it. The library and the
// launcher's validator both call this, so they can never disagree.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "base/result.hpp"

namespace socksify {

struct EffectiveSettings {
  Result<Settings, std::vector<std::string>> settings{std::vector<std::string>{}};
  std::vector<std::string> warnings;  // e.g. a password in a file others can read
  std::optional<std::string> file;    // the config file used, if any
};

EffectiveSettings load_effective_settings(const EnvLookup& env);

// This process's environment, as the launcher and --check read it. (The library
// reads it with secure_getenv: a setuid program never takes settings from it.)
inline const char* process_environment(const char* name) { return std::getenv(name); }

}  // namespace socksify
