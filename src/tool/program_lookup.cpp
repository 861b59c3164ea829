#include "tool/program_lookup.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace socksify {
namespace {

enum class FileKind { Missing, Directory, NotExecutable, Executable };

FileKind kind_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileKind::Missing;
  if (S_ISDIR(st.st_mode)) return FileKind::Directory;
  return ::access(path.c_str(), X_OK) == 0 ? FileKind::Executable : FileKind::NotExecutable;
}

}  // namespace

Result<std::string, ProgramLookupFailure> find_program(std::string_view program,
                                                       std::string_view path_variable) {
  if (program.find('/') != std::string_view::npos) {
    std::string path(program);
    switch (kind_of(path)) {
      case FileKind::Executable:
        return path;
      case FileKind::Missing:
        return ProgramLookupFailure{127, fmt::format("{}: No such file or directory", program)};
      case FileKind::Directory:
        return ProgramLookupFailure{126, fmt::format("{}: Is a directory", program)};
      case FileKind::NotExecutable:
        return ProgramLookupFailure{126, fmt::format("{}: Permission denied", program)};
    }
  }
  // As execvp: the first executable file wins; a file that exists but cannot be
  // executed is reported only if nothing later in PATH can be.
  bool found_not_executable = false;
  if (!program.empty()) {
    std::string_view rest = path_variable;
    while (true) {
      const auto colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      if (dir.empty()) dir = ".";
      std::string candidate = fmt::format("{}/{}", dir, program);
      const FileKind kind = kind_of(candidate);
      if (kind == FileKind::Executable) return candidate;
      if (kind == FileKind::NotExecutable) found_not_executable = true;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  if (found_not_executable) {
    return ProgramLookupFailure{126, fmt::format("{}: Permission denied", program)};
  }
  return ProgramLookupFailure{127, fmt::format("{}: command not found", program)};
}

std::string_view secure_mode_reason(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  if ((st.st_mode & S_ISUID) != 0) return "setuid";
  if ((st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0) return "setgid";
  // Debian gives ping cap_net_raw this way; the kernel sets AT_SECURE for it too.
  if (::getxattr(path.c_str(), "security.capability", nullptr, 0) > 0) return "file capabilities";
  return {};
}

void exec_program(const std::string& path, char** argv) {
  ::execv(path.c_str(), argv);
  if (errno != ENOEXEC) return;
  int n = 0;
  while (argv[n] != nullptr) ++n;
  std::vector<char*> sh;
  sh.push_back(const_cast<char*>("/bin/sh"));
  sh.push_back(const_cast<char*>(path.c_str()));
  for (int i = 1; i < n; ++i) sh.push_back(argv[i]);
  sh.push_back(nullptr);
  ::execv("/bin/sh", sh.data());
}

}  // namespace socksify
