// The settings a process runs with: the config file found by the search order
// (SOCKSIFY_CONF_FILE, which the launcher's -f sets; then the user's and the
// system's file), with the environment layered over it. The library and the
// launcher's validator both call this, so they can never disagree.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "config/settings.hpp"

namespace socksify {

// Set by the launcher to the config file whose safety (who may read, write or
// replace it) it has just reported: the processes of the program's tree then
// stay quiet about that file instead of repeating the warnings once each. A
// child that ends up with another file (another SOCKSIFY_CONF_FILE or HOME)
// reports that one. Setting it by hand only silences warnings, which whoever
// writes the environment could do anyway (SOCKSIFY_LOG_LEVEL=error).
inline constexpr const char* kConfCheckedVariable = "SOCKSIFY_CONF_CHECKED";

struct EffectiveSettings {
  Result<Settings, std::vector<std::string>> settings{std::vector<std::string>{}};
  // A password in a file others can read, a file or directory others can
  // write (config_safety_warnings); none for the file in SOCKSIFY_CONF_CHECKED.
  std::vector<std::string> warnings;
  std::optional<std::string> file;  // the config file used, if any
};

EffectiveSettings load_effective_settings(const EnvLookup& env);

// This process's environment, as the launcher and --check read it. (The library
// reads it with secure_getenv: a setuid program never takes settings from it.)
inline const char* process_environment(const char* name) {
  return std::getenv(name);
}

}  // namespace socksify
