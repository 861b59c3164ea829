// socksify: the launcher. Parses its flags into the environment the library
// reads, checks that environment with the library's own loader, finds the
// program, refuses what LD_PRELOAD cannot reach, prepends the library to
// LD_PRELOAD and execs the program: one exec between the user and the program
// (bench/download measures the whole start-up). With remote DNS (socks5h) it
// first creates the tree's name table and stays resident as the program's
// parent, holding it (resident_parent.hpp, name_table_region.hpp).
// Exit codes follow env(1): 125 socksify's own error, 126 cannot execute,
// 127 not found; otherwise the program's own status.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/effective.hpp"
#include "dns/tree_table_ref.hpp"
#include "tool/check.hpp"
#include "tool/elf_probe.hpp"
#include "tool/launch_args.hpp"
#include "tool/name_table_region.hpp"
#include "tool/program_lookup.hpp"
#include "tool/resident_parent.hpp"
#include "tool/supervised_launch.hpp"

#ifndef SOCKSIFY_VERSION
#error "SOCKSIFY_VERSION must be defined by the build"
#endif
#ifndef SOCKSIFY_REL_LIBDIR
#error "SOCKSIFY_REL_LIBDIR must be defined by the build"
#endif
#ifndef SOCKSIFY_REL_PREFIX
#error "SOCKSIFY_REL_PREFIX must be defined by the build"
#endif
#ifndef SOCKSIFY_SANITIZER_RUNTIME
#define SOCKSIFY_SANITIZER_RUNTIME ""
#endif

namespace {

using namespace socksify;

constexpr int kOwnError = 125;
constexpr int kCannotExecute = 126;

template <class... Args>
int fail(int status, fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "socksify: {}\n", fmt::format(format, std::forward<Args>(args)...));
  return status;
}

bool readable_file(const char* path) {
  return ::access(path, R_OK) == 0;
}

// The directory this executable lives in, symlinks resolved: an installed link
// in another bin directory still finds the library next to the real file.
std::optional<std::string> own_directory(const char* argv0) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string self;
  if (n > 0) {
    self.assign(buf, static_cast<std::size_t>(n));
  } else if (std::strchr(argv0, '/') != nullptr && ::realpath(argv0, buf) != nullptr) {
    self = buf;  // no /proc: argv[0] is all we have
  } else {
    return std::nullopt;
  }
  return self.substr(0, self.rfind('/'));
}

// $SOCKSIFY_LIBRARY, else next to us (build tree), else where install put it.
std::optional<std::string> find_library(const char* argv0, std::string& looked_in) {
  if (const char* explicit_path = std::getenv("SOCKSIFY_LIBRARY");
      explicit_path && *explicit_path) {
    looked_in = explicit_path;
    if (::access(explicit_path, F_OK) != 0) return std::nullopt;
    if (explicit_path[0] == '/') return std::string(explicit_path);
    char buf[PATH_MAX];
    return ::realpath(explicit_path, buf) ? std::optional<std::string>(buf) : std::nullopt;
  }
  const auto dir = own_directory(argv0);
  if (!dir) {
    looked_in = "(cannot tell where socksify is: no /proc/self/exe)";
    return std::nullopt;
  }
  looked_in = *dir;
  for (const std::string& candidate :
       {*dir + "/libsocksify.so", *dir + "/" SOCKSIFY_REL_LIBDIR "/libsocksify.so"}) {
    if (::access(candidate.c_str(), F_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// Where the loader looks when LD_PRELOAD holds "$LIB": it expands the token to
// the library directory of each program's own class, and Debian 12's ld.so
// expands it to lib/x86_64-linux-gnu (64-bit), lib32 (i386 programs with
// libc6-i386, gcc -m32) and lib/i386-linux-gnu (multiarch libc6:i386). With
// both libraries under one root, one preload entry serves every process of the
// tree, whichever class each one is and whatever it execs.
constexpr const char* kLib64Dirs[] = {"lib/x86_64-linux-gnu"};
constexpr const char* kLib32Dirs[] = {"lib32", "lib/i386-linux-gnu"};

struct Libraries {
  std::string preload;    // the LD_PRELOAD entry
  bool i386 = false;      // 32-bit programs are covered
  std::string i386_path;  // where the i386 library was looked for
};

// The root holding lib/x86_64-linux-gnu and lib32: the build tree (launcher
// and library side by side) or the install prefix (bin/..).
Libraries libraries_for(const std::string& library) {
  const std::string dir = library.substr(0, library.rfind('/'));
  std::string root = dir;
  if (const auto own = own_directory(""); own && dir != *own) root = *own + "/" SOCKSIFY_REL_PREFIX;
  char buf[PATH_MAX];
  if (::realpath(root.c_str(), buf) != nullptr) root = buf;
  Libraries out{library, false, root + "/" + kLib32Dirs[0] + "/libsocksify.so"};
  if (std::getenv("SOCKSIFY_LIBRARY") != nullptr && *std::getenv("SOCKSIFY_LIBRARY")) return out;
  auto present = [&](const char* sub) {
    return ::access((root + "/" + sub + "/libsocksify.so").c_str(), R_OK) == 0;
  };
  for (const char* sub : kLib64Dirs) {
    if (!present(sub)) return out;
  }
  for (const char* sub : kLib32Dirs) {
    if (!present(sub)) return out;
  }
  out.preload = root + "/$LIB/libsocksify.so";
  out.i386 = true;
  return out;
}

ElfMachine machine_of(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ElfMachine::NotElf;
  std::byte head[64];
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  return elf_machine(std::span(head, n > 0 ? static_cast<std::size_t>(n) : 0));
}

// The config file as an absolute path with every symlink resolved, computed
// here once: the program's processes each look the file up again, in their own
// working directories, and a relative name would find whatever file lies
// there (a planted one picking another proxy). Resolving symlinks also pins
// the file that was checked: the children read it, not whatever a link points
// to later. nullopt (errno set) when it cannot be resolved.
std::optional<std::string> absolute_config_path(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return std::nullopt;
  return std::string(buf);
}

// Warnings go out at the levels that show them (-q and SOCKSIFY_LOG_LEVEL=error
// silence them, as they do the library's).
bool warnings_shown(const EffectiveSettings& effective) {
  if (!effective.settings) return true;
  const LogLevel level = effective.settings->log_level;
  return level != LogLevel::Quiet && level != LogLevel::Error;
}

// The library's own loader: the launcher rejects exactly what the library would,
// before the program starts, instead of a program whose connections all fail.
// It also reports, once for the whole tree, who may change the config file, and
// marks the file as reported (kConfCheckedVariable) so the program's processes
// do not print the same warnings again, one set each.
std::optional<Settings> valid_settings(bool password_in_arguments) {
  ::unsetenv(kConfCheckedVariable);  // an outer launcher's mark: this one reports itself
  auto effective = load_effective_settings(process_environment);
  if (warnings_shown(effective)) {
    for (const auto& w : effective.warnings) fmt::print(stderr, "socksify: warning: {}\n", w);
    if (password_in_arguments) {
      fmt::print(stderr,
                 "socksify: warning: the password given with -x is visible to every user of "
                 "this machine while socksify starts (ps, /proc/PID/cmdline) and is passed to "
                 "every process of the program in SOCKSIFY_PROXY; prefer a config file of mode "
                 "0600 (-f FILE) or SOCKSIFY_PASSWORD\n");
    }
  }
  if (effective.file) ::setenv(kConfCheckedVariable, effective.file->c_str(), 1);
  if (effective.settings) return std::move(effective.settings.value());
  for (const auto& e : effective.settings.error()) fmt::print(stderr, "socksify: {}\n", e);
  return std::nullopt;
}

bool statically_linked(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::byte head[4096];
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  return elf_linkage(std::span(head, n > 0 ? static_cast<std::size_t>(n) : 0)) ==
         ElfLinkage::Static;
}

// LD_PRELOAD is split at spaces and colons (ld.so(8)): a library path holding
// one would preload something else, or nothing.
bool preloadable(std::string_view path) {
  return path.find_first_of(" :\t") == std::string_view::npos;
}

void set_preload(const std::string& library) {
  std::string preload = library;
  // Only in a build configured with -DSOCKSIFY_SANITIZE=address: the ASan runtime
  // has to be the first object in the process. Leak checking stays off unless
  // asked for: it would report the program's own leaks and change its status.
  constexpr std::string_view sanitizer_runtime = SOCKSIFY_SANITIZER_RUNTIME;
  if (!sanitizer_runtime.empty()) {
    ::setenv("ASAN_OPTIONS", "detect_leaks=0", /*overwrite=*/0);
    ::setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1", 0);
    preload = fmt::format("{} {}", sanitizer_runtime, preload);
  }
  if (const char* existing = std::getenv("LD_PRELOAD"); existing && *existing) {
    preload = fmt::format("{} {}", preload, existing);
  }
  ::setenv("LD_PRELOAD", preload.c_str(), 1);
}

int run(const std::string& path, char** program_argv) {
  exec_program(path, program_argv);
  const int e = errno;
  return fail(e == ENOENT ? 127 : kCannotExecute, "{}: {}", program_argv[0], std::strerror(e));
}

// Remote DNS: one name table for every process of the program's tree, held
// by the resident keeper. Each process finds it through SOCKSIFY_NAME_TABLE
// (/proc/<keeper>/fd/<n>, dns/tree_table_ref.hpp) at its first lookup.
int run_with_tree_table(const Settings& settings, const std::string& path, char** program_argv) {
  auto region = create_name_table_region(settings.fake_v4, settings.fake_v6, kTreeTableCapacity);
  if (!region) return fail(kOwnError, "{}", region.error().text);
  const int fd = above_stdio(region->fd);
  if (fd < 0) return fail(kOwnError, "cannot keep the tree's name table: {}", std::strerror(errno));
  ResidentProgram program;
  program.in_keeper = [fd](pid_t keeper) {
    ::setenv(kTreeTableVariable, format_tree_table_ref({keeper, fd}).c_str(), 1);
  };
  program.exec = [&] { return run(path, program_argv); };
  program.after_start = [r = *region, fd] {
    NameTableRegion moved = r;
    moved.fd = fd;
    prefault_name_table_index(moved);
  };
  program.keep_fds = {fd};
  return run_resident(program);
}

int launch(int argc, char** argv) {
  auto parsed = parse_launch_args(argc, argv);
  if (!parsed) {
    if (parsed.error().text.empty()) {
      fmt::print(stderr, "{}", launch_usage());
      return kOwnError;
    }
    return fail(kOwnError, "{}", parsed.error().text);
  }
  const LaunchArgs& args = *parsed;
  if (args.action == LaunchArgs::Action::Help) {
    fmt::print("{}", launch_usage());
    return 0;
  }
  if (args.action == LaunchArgs::Action::Version) {
    fmt::print("socksify {}\n", SOCKSIFY_VERSION);
    return 0;
  }
  for (const auto& [name, value] : args.env) {
    if (name == "SOCKSIFY_CONF_FILE") {
      const auto absolute =
          readable_file(value.c_str()) ? absolute_config_path(value) : std::nullopt;
      if (!absolute) {
        return fail(kOwnError, "cannot read config file {}: {}", value, std::strerror(errno));
      }
      ::setenv(name.c_str(), absolute->c_str(), 1);
      continue;
    }
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  // SOCKSIFY_CONF_FILE from the environment is pinned the same way: a relative
  // one means this directory, the one the user ran socksify in. (The library
  // refuses a relative one: it cannot tell which directory was meant.)
  if (const char* named = std::getenv("SOCKSIFY_CONF_FILE"); named && *named) {
    const auto absolute = absolute_config_path(named);
    if (!absolute) {
      return fail(kOwnError, "SOCKSIFY_CONF_FILE: cannot read {}: {}", named, std::strerror(errno));
    }
    ::setenv("SOCKSIFY_CONF_FILE", absolute->c_str(), 1);
  }
  if (args.action == LaunchArgs::Action::Check) {
    ::unsetenv(kConfCheckedVariable);  // --check always reports on the file
    // Which programs the installed libraries serve (the launcher refuses the rest).
    std::string looked;
    if (const auto library = find_library(argv[0], looked)) {
      const Libraries libraries = libraries_for(*library);
      if (libraries.i386) {
        fmt::print("programs: x86-64 and i386 covered ({})\n", libraries.preload);
      } else {
        fmt::print(
            "programs: x86-64 covered ({}); i386 NOT covered (no {}): 32-bit programs "
            "are refused\n",
            libraries.preload, libraries.i386_path);
      }
    }
    // Exit status: 0 every check passed, 1 something failed, 2 a bad target.
    return run_check(CheckOptions{args.check_target, flag_variables(args)});
  }

  std::string looked_in;
  const auto library = find_library(argv[0], looked_in);
  if (!library)
    return fail(kOwnError, "cannot find libsocksify.so in {} (set SOCKSIFY_LIBRARY)", looked_in);
  if (!preloadable(*library)) {
    return fail(kOwnError,
                "the library path {} holds a space or colon, which LD_PRELOAD cannot name",
                *library);
  }
  const auto settings = valid_settings(args.password_in_arguments);
  if (!settings) return kOwnError;

  const char* program = argv[args.program_index];
  const char* path_variable = std::getenv("PATH");
  auto path = find_program(program, path_variable ? path_variable : "/usr/bin:/bin");
  if (!path) return fail(path.error().exit_code, "{}", path.error().message);
  if (const auto reason = secure_mode_reason(*path); !reason.empty()) {
    return fail(kOwnError,
                "refusing to run {} program {}: LD_PRELOAD cannot reach it, its traffic would "
                "bypass the proxy",
                reason, *path);
  }
  // Go and static programs (or any, when asked) run under the seccomp supervisor.
  if (const auto status = run_supervised_if_chosen(*path, argv + args.program_index))
    return *status;
  if (statically_linked(*path)) {
    fmt::print(stderr,
               "socksify: warning: {} is statically linked: LD_PRELOAD cannot reach it, its "
               "traffic will NOT go through the proxy\n",
               *path);
  }
  const Libraries libraries = libraries_for(*library);
  if (machine_of(*path) == ElfMachine::I386 && !libraries.i386) {
    return fail(kCannotExecute,
                "refusing to run {}: it is a 32-bit (i386) program and the i386 library ({}) is "
                "not installed; its traffic would bypass the proxy",
                *path, libraries.i386_path);
  }
  set_preload(libraries.preload);
  if (!settings->remote_dns()) {
    ::unsetenv(kTreeTableVariable);  // local DNS: no table
    return run(*path, argv + args.program_index);
  }
  // Inside another socksify's tree with the same ranges: its table, so that
  // addresses mean the same names in both trees (its keeper is our ancestor).
  if (tree_table_reusable(std::getenv(kTreeTableVariable), settings->fake_v4, settings->fake_v6)) {
    return run(*path, argv + args.program_index);
  }
  ::unsetenv(kTreeTableVariable);
  return run_with_tree_table(*settings, *path, argv + args.program_index);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return launch(argc, argv);
  } catch (const std::exception& e) {
    return fail(kOwnError, "internal error: {}", e.what());
  }
}
