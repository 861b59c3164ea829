#include "config/effective.hpp"

#include <sys/stat.h>

#include "config/config_file.hpp"

namespace socksify {

EffectiveSettings load_effective_settings(const EnvLookup& env) {
  EffectiveSettings out;
  auto found = find_config_file("", env, [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  });
  if (!found) {
    out.settings = std::vector<std::string>{found.error().text};
    return out;
  }
  std::optional<ConfigText> text;
  if (found->has_value()) {
    auto read = read_config_file(**found);
    if (!read) {
      out.settings = std::vector<std::string>{read.error().text};
      return out;
    }
    out.warnings = std::move(read->warnings);
    out.file = **found;
    text = std::move(read->file);
  }
  out.settings = load_settings(env, text);
  return out;
}

}  // namespace socksify
