#include "config/file_safety.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

namespace socksify {
namespace {

// Every directory above an absolute path, nearest first: "/a/b/f" -> "/a/b", "/a", "/".
void add_ancestors(std::string_view path, std::vector<std::string>& dirs) {
  if (path.empty() || path.front() != '/') return;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (;;) {
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return;
    path = path.substr(0, slash == 0 ? 1 : slash);
    const std::string dir(path);
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    if (slash == 0) return;
  }
}

bool trusted_owner(unsigned uid, unsigned caller) {
  return uid == 0 || uid == caller;
}

// "its group", "every user", or both, for the write bits of mode.
std::string_view writers(unsigned mode) {
  const bool group = (mode & S_IWGRP) != 0;
  const bool others = (mode & S_IWOTH) != 0;
  if (group && others) return "its group and every user";
  return others ? "every user" : "its group";
}

}  // namespace

std::vector<std::string> config_safety_warnings(std::string_view path, std::string_view real_path,
                                                const FileOwnership& file, unsigned caller,
                                                const StatDirectory& stat_dir) {
  std::vector<std::string> out;
  const unsigned writable = S_IWGRP | S_IWOTH;
  if ((file.mode & writable) != 0) {
    out.push_back(fmt::format(
        "{}: writable by {} (mode {:04o}): whoever can write it can send your traffic to a "
        "proxy of their choosing; chmod go-w it",
        path, writers(file.mode), file.mode));
  }
  if (!trusted_owner(file.uid, caller)) {
    out.push_back(fmt::format(
        "{}: owned by uid {}, neither you nor root: that user can send your traffic to a proxy "
        "of their choosing",
        path, file.uid));
  }
  std::vector<std::string> dirs;
  add_ancestors(path, dirs);
  add_ancestors(real_path, dirs);
  for (const std::string& dir : dirs) {
    const auto st = stat_dir(dir);
    if (!st) continue;
    if (!trusted_owner(st->uid, caller)) {
      out.push_back(fmt::format(
          "{}: its directory {} is owned by uid {}, neither you nor root: that user can replace "
          "the file",
          path, dir, st->uid));
    } else if ((st->mode & writable) != 0 && (st->mode & S_ISVTX) == 0) {
      out.push_back(fmt::format(
          "{}: its directory {} is writable by {} without the sticky bit (mode {:04o}): they "
          "can replace the file; chmod go-w {}",
          path, dir, writers(st->mode), st->mode, dir));
    }
  }
  return out;
}

}  // namespace socksify
