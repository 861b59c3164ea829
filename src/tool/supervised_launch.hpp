// The launcher's second mode (issue 11): for what LD_PRELOAD cannot reach (Go
// programs, static binaries) or when asked (--mode seccomp), the launcher
// forks; the child sets no_new_privs, installs the supervisor's seccomp filter
// (src/supervisor/bpf_filter.hpp) and execs the program; the launcher stays
// resident as its supervisor, answering the trapped calls, and exits with the
// program's status. The filter is inherited by everything the program forks
// and execs, so the whole tree is covered; no_new_privs means a setuid or
// file-capability program in it runs without gaining privilege.
#pragma once

#include <optional>
#include <string>

namespace socksify {

// Decides the mode for `path` (SOCKSIFY_MODE, set from --mode; default auto).
// Preload: nullopt, after the warnings preload mode owes a Go or static
// program (the caller goes on as before). Otherwise runs the program
// supervised and returns the exit status for the launcher (125 with one line
// naming the missing kernel feature when the mode cannot run: fail closed).
std::optional<int> run_supervised_if_chosen(const std::string& path, char** program_argv);

// For --check: "mode: ..." and "kernel: ..." lines.
void print_mode_report();

}  // namespace socksify
