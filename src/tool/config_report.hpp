// The effective configuration as `socksify --check` shows it: every option's
// value and the layer it came from (a launcher flag, a variable, a config file
// line, or the default). Credentials are never printed: a password shows as
// "***", in its own row and inside proxy URLs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace socksify {

struct ConfigRow {
  std::string key;     // file key, or the variable for environment-only options
  std::string value;   // as given, credentials masked; "" when unset
  std::string origin;  // "-x flag (SOCKSIFY_PROXY)", "SOCKSIFY_X", "file:line", "default", "unset"
};

// flag_vars: the SOCKSIFY_* variables the launcher set from its own flags
// (-x sets SOCKSIFY_PROXY, ...), so those rows say "flag" rather than "environment".
// file: the config file's name and text, when one was used.
std::vector<ConfigRow> config_report(const EnvLookup& env, const std::optional<ConfigText>& file,
                                     const std::vector<std::string>& flag_vars);

// A proxy URL (or a list of them) with every password replaced by "***"; an
// item that does not parse is replaced whole if it could hold a password.
std::string mask_proxy_list(std::string_view value);

}  // namespace socksify
