// The option table: one row per option, shared by the environment reader, the
// config file parser and option_table() (--help-env, man page). Internal to
// src/config; other layers use Settings and the load functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "config/config_file.hpp"
#include "config/settings.hpp"

namespace socksify::config_detail {

// Settings under construction, plus values that can only be applied once
// every layer has been read (credentials and DNS mode touch every proxy, and a
// higher layer may replace the proxy list after a lower one set them).
struct Draft {
  Settings settings;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<bool> remote_dns;  // dns remote|local; nullopt: each URL's scheme decides
  bool proxy_given = false;        // a proxy was set, even if it did not parse
  std::string where;               // where the value being applied came from (apply_value)
};

struct Option {
  std::string_view env;            // SOCKSIFY_...; a literal, so NUL-terminated
  std::string_view key;            // config file key; empty: environment only
  std::string_view default_value;  // applied first, through `apply`
  std::string_view help;
  // Parses one value (one item for list options) into the draft. The message
  // is the reason only; the caller prefixes "SOCKSIFY_X: " or "file:line: ".
  Result<void, Message> (*apply)(std::string_view value, Draft& draft);
  // List options (values split on commas and whitespace, repeatable in the
  // file): forgets what a lower layer put there. nullptr for scalar options.
  void (*clear)(Draft& draft);
  // The value is a credential: not trimmed, not split.
  bool secret;
  // A list option whose items are lines (`route`, `proxy NAME URL...`): values
  // split on ';' and newlines instead of commas and whitespace.
  bool lines = false;
  // For a line-list option: whether a line is applied whole (true) or item by
  // item like other lists (false). nullptr: always whole. `proxy` applies a
  // named definition whole and a plain URL list URL by URL.
  bool (*whole_line)(std::string_view line) = nullptr;
};

std::span<const Option> options();
const Option* find_option_by_key(std::string_view key);

// Applies one value that came from `where` ("SOCKSIFY_X" or "file:line"):
// every item of a list value, or the (trimmed, unless secret) scalar value.
// Problems are appended as "where: why".
void apply_value(const Option& opt, std::string_view raw, Draft& draft, std::string_view where,
                 std::vector<std::string>& errors);

// A config file's checked entries and its problems, both: the loader applies
// the good lines of a file that also has bad ones, so that one bad line does
// not bring a flood of follow-on errors ("no proxy" after a mistyped proxy).
struct ConfigScan {
  std::vector<ConfigEntry> entries;
  std::vector<std::string> errors;
};
ConfigScan scan_config(std::string_view text, std::string_view name);

// Items of a list value, separated by commas and/or whitespace; empty items
// are skipped.
std::vector<std::string_view> split_list(std::string_view value);
// Items of a line-list value, separated by ';' and/or newlines, trimmed; empty
// items are skipped.
std::vector<std::string_view> split_lines(std::string_view value);
std::string_view trim(std::string_view s);

}  // namespace socksify::config_detail
