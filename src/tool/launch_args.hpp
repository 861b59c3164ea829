// The launcher's command line, parsed without touching the process:
//   socksify [OPTIONS] [--] PROGRAM [ARGS...]
//   socksify [OPTIONS] --check [--check-target HOST:PORT]
// Flags become the environment variables the library reads (-x sets
// SOCKSIFY_PROXY, ...), so a program's children see the same settings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace socksify {

struct LaunchArgs {
  enum class Action { Run, Check, Help, Version };
  Action action = Action::Run;
  // Variables to set, in command-line order (a later flag wins).
  std::vector<std::pair<std::string, std::string>> env;
  std::optional<std::string> check_target;  // --check-target HOST:PORT
  int program_index = 0;                    // argv index of PROGRAM (Action::Run)
  // A -x URL holds a password: every user can read a command line (ps,
  // /proc/PID/cmdline), so the launcher says so.
  bool password_in_arguments = false;
};

// How the program is reached (--mode, SOCKSIFY_MODE): LD_PRELOAD, or the
// seccomp supervisor (src/supervisor/) for what LD_PRELOAD cannot reach.
enum class LaunchMode { Auto, Preload, Seccomp };
std::optional<LaunchMode> parse_launch_mode(std::string_view text);
// Auto picks seccomp for a statically linked ELF or a Go program.
LaunchMode effective_mode(LaunchMode asked, bool static_elf, bool go_program);

// The names of the variables set from flags, once each: what --check reports
// as coming from the command line.
std::vector<std::string> flag_variables(const LaunchArgs& args);

// Errors are one line for "socksify: <line>", e.g. "unknown option -z (try --help)".
// "missing program" is reported as Message{""}: the caller prints the usage.
Result<LaunchArgs, Message> parse_launch_args(int argc, const char* const* argv);

// socksify --help.
std::string_view launch_usage();

}  // namespace socksify
