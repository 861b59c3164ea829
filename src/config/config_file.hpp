// socksify.conf: parsing (pure), reading (the one function here that does
// I/O) and the search order (pure, given the environment and a file test).
//
// Format: one `key value` per line; blank lines and lines starting with '#'
// are ignored; outside credentials, " #" starts a trailing comment. Keys are
// the file_key column of option_table() (config/options.cpp, which the man
// page socksify.conf(5) is checked against): one per SOCKSIFY_* option except
// SOCKSIFY_CONF_FILE. `proxy` and `direct` may repeat (and take several items
// per line, like their variables); any other key may appear once. username and password take the
// rest of the line verbatim except surrounding whitespace ('#' included).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "config/file_safety.hpp"
#include "config/settings.hpp"

namespace socksify {

// One checked `key value` line.
struct ConfigEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based
  friend bool operator==(const ConfigEntry&, const ConfigEntry&) = default;
};

struct ConfigFile {
  std::string name;                  // as given, for messages
  std::vector<ConfigEntry> entries;  // in file order
};

// Checks every line (key known, value valid, no scalar key twice) and returns
// every problem as "name:line: why" (never quoting a credential).
Result<ConfigFile, std::vector<std::string>> parse_config_file(std::string_view text,
                                                               std::string_view name);

// True when the text sets a password (a `password` line or a proxy URL with
// one), whether or not the rest of it is valid.
bool config_mentions_password(std::string_view text);

// True when a list of proxy URLs (as SOCKSIFY_PROXY or -x take) holds a
// password, or might (an unparsable item with an '@').
bool proxy_list_mentions_password(std::string_view urls);

struct ConfigRead {
  ConfigText file;
  // e.g. the file holds a password but group or others may read it.
  std::vector<std::string> warnings;
  FileOwnership ownership;  // of the file read (fstat), for config_safety_warnings
};

// Reads a config file (regular files up to 1 MiB). Errors: "path: why".
Result<ConfigRead, Message> read_config_file(const std::string& path);

using PathExists = std::function<bool(const std::string& path)>;

// Where the config file is: explicit_path (the launcher's -f), else
// $SOCKSIFY_CONF_FILE, else ${XDG_CONFIG_HOME:-$HOME/.config}/socksify/socksify.conf,
// else /etc/socksify.conf. The first two are explicit requests: if named and
// missing, that is an error rather than a silent fall-through. nullopt: no
// file anywhere (the environment alone is the configuration).
// Every process of a program's tree looks the file up again, each in its own
// working directory: a relative name would be read from wherever a child
// happens to run, and a file planted there would pick its proxy. So a relative
// $SOCKSIFY_CONF_FILE is an error (the launcher makes it absolute before the
// program starts), and a relative XDG_CONFIG_HOME or HOME is ignored.
Result<std::optional<std::string>, Message> find_config_file(std::string_view explicit_path,
                                                             const EnvLookup& env,
                                                             const PathExists& exists);

}  // namespace socksify
