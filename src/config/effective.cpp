#include "config/effective.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "config/config_file.hpp"
#include "config/file_safety.hpp"

namespace socksify {
namespace {

std::vector<std::string> safety_warnings(const std::string& path, const FileOwnership& file) {
  char real[PATH_MAX];
  const char* resolved = ::realpath(path.c_str(), real) != nullptr ? real : path.c_str();
  return config_safety_warnings(path, resolved, file, static_cast<unsigned>(::geteuid()),
                                [](const std::string& dir) -> std::optional<FileOwnership> {
                                  struct stat st {};
                                  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
                                  return FileOwnership{static_cast<unsigned>(st.st_mode & 07777),
                                                       static_cast<unsigned>(st.st_uid)};
                                });
}

}  // namespace

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
    const std::string& path = **found;
    auto read = read_config_file(path);
    if (!read) {
      out.settings = std::vector<std::string>{read.error().text};
      return out;
    }
    // Said once per tree: by the launcher, which marks the file it reported on.
    const char* checked = env(kConfCheckedVariable);
    if (checked == nullptr || path != checked) {
      out.warnings = std::move(read->warnings);
      for (auto& w : safety_warnings(path, read->ownership)) out.warnings.push_back(std::move(w));
    }
    out.file = path;
    text = std::move(read->file);
  }
  out.settings = load_settings(env, text);
  return out;
}

}  // namespace socksify
