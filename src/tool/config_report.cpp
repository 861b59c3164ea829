#include "tool/config_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config/config_file.hpp"
#include "config/proxy_spec.hpp"

namespace socksify {
namespace {

bool is_separator(char c) {
  return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::string mask_proxy_list(std::string_view value) {
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && is_separator(value[i])) ++i;
    std::size_t j = i;
    while (j < value.size() && !is_separator(value[j])) ++j;
    if (j > i) {
      const std::string_view item = value.substr(i, j - i);
      if (!out.empty()) out += ", ";
      auto spec = parse_proxy_url(item);
      if (spec) {
        out += spec->display();
      } else if (item.find('@') != std::string_view::npos) {
        out += "(unparsable URL with credentials)";
      } else {
        out += item;
      }
    }
    i = j;
  }
  return out;
}

std::vector<ConfigRow> config_report(const EnvLookup& env, const std::optional<ConfigText>& file,
                                     const std::vector<std::string>& flag_vars) {
  std::vector<ConfigEntry> entries;
  if (file) {
    // Only a file that loaded is reported on, so its lines parse.
    if (auto parsed = parse_config_file(file->text, file->name))
      entries = std::move(parsed->entries);
  }
  std::vector<ConfigRow> rows;
  for (const OptionInfo& opt : option_table()) {
    ConfigRow row;
    row.key = opt.file_key.empty() ? std::string(opt.name) : std::string(opt.file_key);
    const auto shown = [&](std::string_view raw) -> std::string {
      if (opt.file_key == "proxy") return mask_proxy_list(raw);
      if (opt.file_key == "password") return "***";
      return std::string(raw);
    };
    const char* v = env(opt.name.data());
    if (v != nullptr && *v != '\0') {
      row.value = shown(v);
      const bool from_flag =
          std::find(flag_vars.begin(), flag_vars.end(), opt.name) != flag_vars.end();
      row.origin = from_flag ? fmt::format("command line ({})", opt.name) : std::string(opt.name);
    } else if (!opt.file_key.empty() &&
               std::any_of(entries.begin(), entries.end(),
                           [&](const ConfigEntry& e) { return e.key == opt.file_key; })) {
      std::string lines;
      for (const ConfigEntry& e : entries) {
        if (e.key != opt.file_key) continue;
        if (!row.value.empty()) row.value += ", ";
        row.value += shown(e.value);
        lines +=
            lines.empty() ? fmt::format("{}:{}", file->name, e.line) : fmt::format(",{}", e.line);
      }
      row.origin = lines;
    } else if (!opt.default_value.empty()) {
      row.value = std::string(opt.default_value);
      row.origin = "default";
    } else {
      row.origin = "unset";
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace socksify
