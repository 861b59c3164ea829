// socksify.conf: line scanner, file reader and search order. Values are
// checked by the same option parsers as the environment (options.cpp).
#include "config/config_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/options.hpp"

namespace socksify {
namespace {

// Bigger than any real config; a bound keeps a mistaken path (a log, a disk
// image) from being slurped into the host program's memory.
constexpr off_t kMaxConfigBytes = 1 << 20;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

// " #" or "\t#" starts a trailing comment; a '#' glued to a word does not, so
// "log_file /tmp/a#b" keeps its name. The value was cut after whitespace, so
// a '#' at its start follows whitespace too.
std::string_view strip_trailing_comment(std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '#' && (i == 0 || is_space(value[i - 1]))) {
      return config_detail::trim(value.substr(0, i));
    }
  }
  return value;
}

}  // namespace

namespace config_detail {

ConfigScan scan_config(std::string_view text, std::string_view name) {
  ConfigScan scan;
  Draft scratch;  // values are checked by applying them here
  // Scalar keys seen so far and their line, for the "already set" message.
  std::vector<std::pair<std::string_view, int>> seen;

  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
    ++line_no;

    line = trim(line);  // also drops the '\r' of CRLF files
    if (line.empty() || line.front() == '#') continue;

    const auto where = fmt::format("{}:{}", name, line_no);
    std::size_t key_end = 0;
    while (key_end < line.size() && !is_space(line[key_end])) ++key_end;
    const std::string_view key = line.substr(0, key_end);
    std::string_view value = trim(line.substr(key_end));

    const Option* opt = find_option_by_key(key);
    if (opt == nullptr) {
      scan.errors.push_back(fmt::format("{}: unknown key '{}'", where, key));
      continue;
    }
    if (!opt->secret) value = strip_trailing_comment(value);
    if (value.empty()) {
      scan.errors.push_back(fmt::format("{}: '{}' needs a value", where, key));
      continue;
    }
    if (opt->clear == nullptr) {
      bool duplicate = false;
      for (const auto& [k, l] : seen) {
        if (k == opt->key) {
          scan.errors.push_back(fmt::format("{}: '{}' already set on line {}", where, key, l));
          duplicate = true;
        }
      }
      if (duplicate) continue;
      seen.emplace_back(opt->key, line_no);
    }
    const std::size_t errors_before = scan.errors.size();
    apply_value(*opt, value, scratch, where, scan.errors);
    if (scan.errors.size() == errors_before) {
      scan.entries.push_back({std::string(key), std::string(value), line_no});
    }
  }
  return scan;
}

}  // namespace config_detail

Result<ConfigFile, std::vector<std::string>> parse_config_file(std::string_view text,
                                                               std::string_view name) {
  config_detail::ConfigScan scan = config_detail::scan_config(text, name);
  if (!scan.errors.empty()) return std::move(scan.errors);
  return ConfigFile{std::string(name), std::move(scan.entries)};
}

bool config_mentions_password(std::string_view text) {
  // Checks raw lines, not the scan's entries: a password on a line with an
  // error elsewhere (a bad proxy port, say) is still a password on disk.
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t eol = text.find('\n', pos);
    const std::string_view line =
        config_detail::trim(text.substr(pos, eol == std::string_view::npos ? eol : eol - pos));
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line.starts_with("password") && (line.size() == 8 || is_space(line[8]))) return true;
    if (line.starts_with("proxy") && line.size() > 5 && is_space(line[5]) &&
        proxy_list_mentions_password(line.substr(5))) {
      return true;
    }
  }
  return false;
}

bool proxy_list_mentions_password(std::string_view urls) {
  for (const std::string_view item : config_detail::split_list(urls)) {
    auto spec = parse_proxy_url(item);
    if (spec.ok() && !spec->password.empty()) return true;
    // An unparsable URL may still hold "user:password@": assume it does.
    if (!spec.ok() && item.find('@') != std::string_view::npos) return true;
  }
  return false;
}

Result<ConfigRead, Message> read_config_file(const std::string& path) {
  const auto fail = [&](std::string_view why) { return Message{fmt::format("{}: {}", path, why)}; };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return fail(std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("not a regular file");
  }
  if (st.st_size > kMaxConfigBytes) {
    ::close(fd);
    return fail("larger than 1 MiB; not a config file?");
  }

  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return fail(std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    // The size can grow after fstat (a file still being written).
    if (text.size() > static_cast<std::size_t>(kMaxConfigBytes)) {
      ::close(fd);
      return fail("larger than 1 MiB; not a config file?");
    }
  }
  ::close(fd);

  ConfigRead result;
  const unsigned mode = st.st_mode & 07777;
  if ((mode & (S_IRGRP | S_IROTH)) != 0 && config_mentions_password(text)) {
    result.warnings.push_back(fmt::format(
        "{}: contains a password but is readable by other users (mode {:04o}); chmod 600 it", path,
        mode));
  }
  // Who may write it: config_safety_warnings, which also looks at its directories.
  result.ownership = FileOwnership{mode, static_cast<unsigned>(st.st_uid)};
  result.file = ConfigText{path, std::move(text)};
  return result;
}

Result<std::optional<std::string>, Message> find_config_file(std::string_view explicit_path,
                                                             const EnvLookup& env,
                                                             const PathExists& exists) {
  if (!explicit_path.empty()) {
    std::string path(explicit_path);
    if (!exists(path)) return Message{fmt::format("config file '{}' not found", path)};
    return std::optional<std::string>(std::move(path));
  }
  const char* named = env("SOCKSIFY_CONF_FILE");
  if (named != nullptr && *named != '\0') {
    std::string path(named);
    if (path.front() != '/') {
      return Message{fmt::format(
          "SOCKSIFY_CONF_FILE: '{}' is relative: each process would read it in its own working "
          "directory; give an absolute path (socksify -f makes it absolute)",
          path)};
    }
    if (!exists(path)) return Message{fmt::format("SOCKSIFY_CONF_FILE: '{}' not found", path)};
    return std::optional<std::string>(std::move(path));
  }

  // XDG Base Directory spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  std::string base;
  const char* xdg = env("XDG_CONFIG_HOME");
  const char* home = env("HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    base = xdg;
  } else if (home != nullptr && home[0] == '/') {
    base = std::string(home) + "/.config";
  }
  if (!base.empty()) {
    std::string path = base + "/socksify/socksify.conf";
    if (exists(path)) return std::optional<std::string>(std::move(path));
  }
  std::string system_path = "/etc/socksify.conf";
  if (exists(system_path)) return std::optional<std::string>(std::move(system_path));
  return std::optional<std::string>();
}

}  // namespace socksify
