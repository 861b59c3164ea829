// Finding the program to run, as execvp(3) and the shells do, but before the
// exec: the launcher has to look at the file (setuid? statically linked?) and
// tell "not found" (127) from "cannot execute" (126) as env(1) does.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace socksify {

struct ProgramLookupFailure {
  int exit_code;        // 127 not found, 126 found but not executable
  std::string message;  // "curl: command not found"
};

// A name with a slash is taken as a path; otherwise each directory of
// path_variable is tried in order (an empty entry is the current directory).
Result<std::string, ProgramLookupFailure> find_program(std::string_view program,
                                                       std::string_view path_variable);

// Why the loader would ignore LD_PRELOAD for this file, if it would: it runs in
// secure-execution mode (ld.so(8)) when setuid, setgid (with group execute) or
// given file capabilities. "setuid", "setgid", "file capabilities" or empty.
std::string_view secure_mode_reason(const std::string& path);

// execv(path, argv); a script without "#!" (ENOEXEC) is run by /bin/sh, as
// execvp(3) and the shells do. Returns only on failure, with errno set.
// Allocates: for a single-threaded process (the launcher, or its child after fork).
void exec_program(const std::string& path, char** argv);

}  // namespace socksify
