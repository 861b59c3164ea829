// exec of a program of the other ELF class. The loader expands "$LIB" in
// LD_PRELOAD to each program's own library directory, so a tree preloaded as
// ROOT/$LIB/libsocksify.so stays proxied across a 64-bit -> i386 exec (and back)
// when both libraries are installed. Preloaded by a plain path, or with the
// other class's library missing, the loader would print "wrong ELF class:
// ignored" and run the new program unproxied; these hooks refuse that exec
// instead (EACCES, one line on stderr), fail closed as everywhere else.
//
// A Go or statically linked program makes its own system calls, which
// LD_PRELOAD never sees: exec'd from a preloaded program it would run
// unproxied. Such an exec is handed to the launcher's supervised mode instead:
// it becomes `$SOCKSIFY_LAUNCHER_PATH --mode seccomp -- PROGRAM ARGS...` (the
// launcher records its own path there; the settings are in the environment
// already), with our LD_PRELOAD entry taken out (the launcher and the program
// run under the seccomp filter, which covers everything they exec). No
// launcher known, a descriptor exec (fexecve, execveat) or another
// architecture: refused with one line. --mode preload (SOCKSIFY_MODE=preload)
// keeps the plain exec and says once that it goes unproxied.
// Checked: execve/execv/execvp/execvpe/execl/execlp/execle, fexecve, execveat,
// posix_spawn/posix_spawnp. system() and popen() run /bin/sh, whose own exec
// comes here. Runs in vfork children too: no allocation, no lock, no stdio.
#include <alloca.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "core/real.hpp"
#include "shim/export.hpp"
#include "tool/elf_go.hpp"
#include "tool/elf_probe.hpp"

extern char** environ;

namespace {

using socksify::ElfMachine;
using socksify::real::next_symbol_cached;

#if defined(__x86_64__)
constexpr ElfMachine kOwnMachine = ElfMachine::X86_64;
#elif defined(__i386__)
constexpr ElfMachine kOwnMachine = ElfMachine::I386;
#else
constexpr ElfMachine kOwnMachine = ElfMachine::Other;
#endif

void say(const char* a, const char* b, const char* c) {
  for (const char* p : {"socksify: refusing to exec ", a, ": ", b, c, "\n"}) {
    ssize_t ignored = ::syscall(SYS_write, 2, p, std::strlen(p));
    (void)ignored;
  }
}

// What an exec would run: its class, and whether LD_PRELOAD can reach it.
struct Program {
  ElfMachine machine = ElfMachine::NotElf;
  bool own_syscalls = false;  // statically linked, or Go
  bool go = false;
};

Program program_of_fd(int fd) {
  Program p;
  std::byte head[4096];  // the program headers: static or dynamic
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  const auto bytes = std::span(head, n > 0 ? static_cast<std::size_t>(n) : 0);
  p.machine = socksify::elf_machine(bytes);
  if (p.machine == ElfMachine::NotElf) return p;
  const bool elf_static = socksify::elf_linkage(bytes) == socksify::ElfLinkage::Static;
  // A lambda holding one int: std::function keeps it inline, no allocation.
  p.go = p.machine == ElfMachine::X86_64 &&
         socksify::elf_is_go([fd](std::uint64_t off, std::span<std::byte> out) {
           return ::pread(fd, out.data(), out.size(), static_cast<off_t>(off)) ==
                  static_cast<ssize_t>(out.size());
         });
  p.own_syscalls = elf_static || p.go;
  return p;
}

Program program_of(const char* path) {
  const int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return {};  // the exec itself reports what is wrong
  const Program p = program_of_fd(fd);
  ::syscall(SYS_close, fd);
  return p;
}

// The LD_PRELOAD entry naming us in envp, as a view (nullptr, 0 if none).
const char* our_entry(char* const envp[], std::size_t& len) {
  for (char* const* e = envp; e && *e; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) continue;
    const char* p = *e + 11;
    while (*p) {
      const std::size_t n = std::strcspn(p, " :\t");
      constexpr std::size_t kName = sizeof "/libsocksify.so" - 1;
      if (n >= kName && std::memcmp(p + n - kName, "/libsocksify.so", kName) == 0) {
        len = n;
        return p;
      }
      p += n;
      if (*p) ++p;
    }
  }
  len = 0;
  return nullptr;
}

// Whether the new program would load a socksify of its class: an entry with
// "$LIB" whose expansion for that class exists.
bool covered(ElfMachine m, char* const envp[]) {
  std::size_t len = 0;
  const char* entry = our_entry(envp, len);
  if (entry == nullptr) return true;  // not preloaded by this environment: not ours to judge
  char path[PATH_MAX];
  const char* lib = m == ElfMachine::I386 ? "lib32" : "lib/x86_64-linux-gnu";
  const char* token = static_cast<const char*>(memmem(entry, len, "$LIB", 4));
  if (token == nullptr) return false;  // a plain path: one class only, ours
  const std::size_t before = static_cast<std::size_t>(token - entry);
  const std::size_t after = len - before - 4;
  if (before + std::strlen(lib) + after >= sizeof path) return false;
  std::memcpy(path, entry, before);
  std::memcpy(path + before, lib, std::strlen(lib));
  std::memcpy(path + before + std::strlen(lib), token + 4, after);
  path[before + std::strlen(lib) + after] = '\0';
  return ::access(path, R_OK) == 0;
}

bool refused(ElfMachine m, const char* what, char* const envp[]) {
  if (m == kOwnMachine || (m != ElfMachine::X86_64 && m != ElfMachine::I386)) return false;
  if (covered(m, envp)) return false;
  say(what,
      m == ElfMachine::I386 ? "it is a 32-bit (i386) program" : "it is a 64-bit (x86-64) program",
      " and socksify's library for it is not installed; its traffic would bypass the proxy");
  errno = EACCES;
  return true;
}

// The value of `name` in envp (nullptr if absent).
const char* env_value(char* const envp[], const char* name) {
  const std::size_t len = std::strlen(name);
  for (char* const* e = envp; e && *e; ++e) {
    if (std::strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
  }
  return nullptr;
}

// The exec of a Go or static program, as the launcher's supervised mode runs
// it: argv and envp built on the stack (alloca: vfork children).
struct Handoff {
  const char* launcher;
  char** argv;
  char** envp;
};

// How an exec of a program goes: as asked, refused (one line said, errno set)
// or to the launcher (the caller builds it with SOCKSIFY_HANDOFF, below).
enum class ExecPlan { AsAsked, Refused, ToLauncher };

ExecPlan plan_exec(const Program& p, const char* what, char* const envp[], bool by_path) {
  if (!p.own_syscalls) return ExecPlan::AsAsked;
  std::size_t len = 0;
  if (our_entry(envp, len) == nullptr) return ExecPlan::AsAsked;  // not ours to judge
  const char* kind = p.go ? "it is a Go program" : "it is statically linked";
  if (const char* mode = env_value(envp, "SOCKSIFY_MODE");
      mode && std::strcmp(mode, "preload") == 0) {
    for (const char* s : {"socksify: warning: ", what, ": ", kind,
                          ": LD_PRELOAD cannot reach it, its traffic will NOT go through the proxy "
                          "(--mode preload)\n"}) {
      ssize_t ignored = ::syscall(SYS_write, 2, s, std::strlen(s));
      (void)ignored;
    }
    return ExecPlan::AsAsked;
  }
  const char* why = nullptr;
  const char* launcher = env_value(envp, "SOCKSIFY_LAUNCHER_PATH");
  if (p.machine != ElfMachine::X86_64) {
    why =
        " and not an x86-64 program: the supervised mode cannot run it; its traffic would "
        "bypass the proxy";
  } else if (!by_path) {
    why =
        ", exec'd by descriptor: cannot hand it to the supervised mode; its traffic would "
        "bypass the proxy";
  } else if (launcher == nullptr || *launcher != '/' || ::access(launcher, X_OK) != 0) {
    why =
        ", which LD_PRELOAD cannot reach, and the socksify launcher is not known "
        "(SOCKSIFY_LAUNCHER_PATH) to supervise it; its traffic would bypass the proxy";
  }
  if (why != nullptr) {
    say(what, kind, why);
    errno = EACCES;
    return ExecPlan::Refused;
  }
  return ExecPlan::ToLauncher;
}

std::size_t count_of(char* const v[]) {
  std::size_t n = 0;
  while (v && v[n]) ++n;
  return n;
}

constexpr std::size_t kLauncherArgs = 4;  // launcher --mode seccomp --

// Fills `argv` (count_of(program_argv) + kLauncherArgs + 1 slots) with the
// launcher's command line for `path`.
void launcher_argv(const char* launcher, const char* path, char* const program_argv[],
                   char** argv) {
  static char mode[] = "--mode", seccomp[] = "seccomp", dashes[] = "--";
  argv[0] = const_cast<char*>(launcher);
  argv[1] = mode;
  argv[2] = seccomp;
  argv[3] = dashes;
  argv[4] = const_cast<char*>(path);
  const std::size_t n = count_of(program_argv);
  for (std::size_t i = 1; i < n; ++i) argv[kLauncherArgs + i] = program_argv[i];
  argv[kLauncherArgs + (n > 0 ? n : 1)] = nullptr;
}

// Fills `out` (count_of(envp) + 1 slots) with envp less our LD_PRELOAD entry;
// `buf` holds the rewritten LD_PRELOAD (as long as the first one, which
// env_value finds and the loader reads; later ones are dropped).
void launcher_envp(char* const envp[], char** out, char* buf) {
  std::size_t k = 0;
  bool seen = false;
  for (char* const* e = envp; e && *e; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) {
      out[k++] = *e;
      continue;
    }
    if (seen) continue;  // the loader reads the first; one buffer for it
    seen = true;
    char* const one[] = {*e, nullptr};
    std::size_t len = 0;
    const char* entry = our_entry(one, len);
    if (entry == nullptr) {
      out[k++] = *e;
      continue;
    }
    // Before and after our entry, without the separator that followed it.
    const std::size_t before = static_cast<std::size_t>(entry - *e);
    const char* rest = entry + len;
    if (*rest) ++rest;
    std::memcpy(buf, *e, before);
    std::strcpy(buf + before, rest);
    if (std::strcmp(buf, "LD_PRELOAD=") != 0) out[k++] = buf;
  }
  out[k] = nullptr;
}

std::size_t preload_length(char* const envp[]) {
  const char* v = env_value(envp, "LD_PRELOAD");
  return v ? std::strlen(v) + sizeof "LD_PRELOAD=" : 1;
}

// Declares `handoff` (a Handoff on this stack frame) for an exec of `path`.
#define SOCKSIFY_HANDOFF(handoff, path, program_argv, envp)                                      \
  Handoff handoff{env_value(envp, "SOCKSIFY_LAUNCHER_PATH"), nullptr, nullptr};                  \
  handoff.argv =                                                                                 \
      static_cast<char**>(alloca((count_of(program_argv) + kLauncherArgs + 2) * sizeof(char*))); \
  handoff.envp = static_cast<char**>(alloca((count_of(envp) + 1) * sizeof(char*)));              \
  launcher_argv(handoff.launcher, path, program_argv, handoff.argv);                             \
  launcher_envp(envp, handoff.envp, static_cast<char*>(alloca(preload_length(envp))));

// execvp's search, to know which file it will run (it runs the first
// executable one; a directory or a non-executable file is skipped): its path
// in `out` (PATH_MAX), false when none is found (the exec reports that).
bool search(const char* file, char* out) {
  if (file == nullptr || *file == '\0') return false;
  if (std::strchr(file, '/') != nullptr) {
    if (std::strlen(file) >= PATH_MAX) return false;
    std::strcpy(out, file);
    return true;
  }
  const char* path_var = std::getenv("PATH");
  const char* p = path_var && *path_var ? path_var : "/bin:/usr/bin";
  const std::size_t flen = std::strlen(file);
  while (true) {
    const std::size_t n = std::strcspn(p, ":");
    if (n + 1 + flen < PATH_MAX) {
      std::memcpy(out, n ? p : ".", n ? n : 1);
      const std::size_t dlen = n ? n : 1;
      out[dlen] = '/';
      std::memcpy(out + dlen + 1, file, flen + 1);
      if (::access(out, X_OK) == 0) return true;
    }
    if (p[n] == '\0') return false;
    p += n + 1;
  }
}

// The whole decision for an exec of the file at `path`.
ExecPlan plan_for_path(const char* path, char* const envp[]) {
  const Program p = program_of(path);
  if (refused(p.machine, path, envp)) return ExecPlan::Refused;
  return plan_exec(p, path, envp, /*by_path=*/true);
}

using execve_fn = int (*)(const char*, char* const[], char* const[]);
using execvpe_fn = int (*)(const char*, char* const[], char* const[]);
using fexecve_fn = int (*)(int, char* const[], char* const[]);
using execveat_fn = int (*)(int, const char*, char* const[], char* const[], int);
using spawn_fn = int (*)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                         const posix_spawnattr_t*, char* const[], char* const[]);
std::atomic<execve_fn> g_execve{nullptr};
std::atomic<execvpe_fn> g_execvpe{nullptr};
std::atomic<fexecve_fn> g_fexecve{nullptr};
std::atomic<execveat_fn> g_execveat{nullptr};
std::atomic<spawn_fn> g_spawn{nullptr};
std::atomic<spawn_fn> g_spawnp{nullptr};

// Found at load time: an exec often runs in a vfork child, where dlsym (which
// may lock and allocate) must not be the first to look.
__attribute__((constructor)) void resolve_exec_functions() {
  next_symbol_cached("execve", g_execve);
  next_symbol_cached("execvpe", g_execvpe);
  next_symbol_cached("fexecve", g_fexecve);
  next_symbol_cached("execveat", g_execveat);
  next_symbol_cached("posix_spawn", g_spawn);
  next_symbol_cached("posix_spawnp", g_spawnp);
}

int missing() {
  errno = ENOSYS;
  return -1;
}

// posix_spawn and posix_spawnp report failure as their return value and leave
// errno alone, whatever the checks touched.
int spawn_checked(bool searched, const char* name, std::atomic<spawn_fn>& slot, pid_t* pid,
                  const char* what, const posix_spawn_file_actions_t* fa,
                  const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  const int saved = errno;
  char found[PATH_MAX];
  const char* path = what;
  if (searched) path = search(what, found) ? found : nullptr;
  const ExecPlan plan = path != nullptr ? plan_for_path(path, envp) : ExecPlan::AsAsked;
  errno = saved;
  if (plan == ExecPlan::Refused) return EACCES;
  if (plan == ExecPlan::ToLauncher) {
    SOCKSIFY_HANDOFF(handoff, path, argv, envp)
    auto real = next_symbol_cached("posix_spawn", g_spawn);
    return real ? real(pid, handoff.launcher, fa, attr, handoff.argv, handoff.envp) : ENOSYS;
  }
  auto real = next_symbol_cached(name, slot);
  return real ? real(pid, what, fa, attr, argv, envp) : ENOSYS;
}

int exec_launcher(const char* path, char* const argv[], char* const envp[]) {
  SOCKSIFY_HANDOFF(handoff, path, argv, envp)
  auto real = next_symbol_cached("execve", g_execve);
  return real ? real(handoff.launcher, handoff.argv, handoff.envp) : missing();
}

int do_execve(const char* path, char* const argv[], char* const envp[]) {
  const ExecPlan plan = path != nullptr ? plan_for_path(path, envp) : ExecPlan::AsAsked;
  if (plan == ExecPlan::Refused) return -1;
  if (plan == ExecPlan::ToLauncher) return exec_launcher(path, argv, envp);
  auto real = next_symbol_cached("execve", g_execve);
  return real ? real(path, argv, envp) : missing();
}

// The file execvp would run decides; the search itself stays libc's.
int do_execvpe(const char* file, char* const argv[], char* const envp[]) {
  char found[PATH_MAX];
  const ExecPlan plan = search(file, found) ? plan_for_path(found, envp) : ExecPlan::AsAsked;
  if (plan == ExecPlan::Refused) return -1;
  if (plan == ExecPlan::ToLauncher) return exec_launcher(found, argv, envp);
  auto real = next_symbol_cached("execvpe", g_execvpe);
  return real ? real(file, argv, envp) : missing();
}

}  // namespace

// execl's arguments as an argv on the stack (an exec may run in a vfork child:
// no malloc). Leaves the va_list after the terminating NULL.
#define SOCKSIFY_COLLECT_ARGV(first, last_named)                          \
  std::size_t count = 1;                                                  \
  {                                                                       \
    va_list probe;                                                        \
    va_start(probe, last_named);                                          \
    while (va_arg(probe, char*) != nullptr) ++count;                      \
    va_end(probe);                                                        \
  }                                                                       \
  char** argv = static_cast<char**>(alloca((count + 1) * sizeof(char*))); \
  argv[0] = const_cast<char*>(first);                                     \
  va_list ap;                                                             \
  va_start(ap, last_named);                                               \
  for (std::size_t i = 1; i <= count; ++i) argv[i] = va_arg(ap, char*);

extern "C" {

SOCKSIFY_HOOK int execve(const char* path, char* const argv[], char* const envp[]) {
  return do_execve(path, argv, envp);
}

SOCKSIFY_HOOK int execv(const char* path, char* const argv[]) {
  return do_execve(path, argv, environ);
}

SOCKSIFY_HOOK int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return do_execvpe(file, argv, envp);
}

SOCKSIFY_HOOK int execvp(const char* file, char* const argv[]) {
  return do_execvpe(file, argv, environ);
}

SOCKSIFY_HOOK int execl(const char* path, const char* arg, ...) {
  SOCKSIFY_COLLECT_ARGV(arg, arg)
  va_end(ap);
  return do_execve(path, argv, environ);
}

SOCKSIFY_HOOK int execlp(const char* file, const char* arg, ...) {
  SOCKSIFY_COLLECT_ARGV(arg, arg)
  va_end(ap);
  return do_execvpe(file, argv, environ);
}

SOCKSIFY_HOOK int execle(const char* path, const char* arg, ...) {
  SOCKSIFY_COLLECT_ARGV(arg, arg)
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return do_execve(path, argv, envp);
}

SOCKSIFY_HOOK int fexecve(int fd, char* const argv[], char* const envp[]) {
  const Program p = program_of_fd(fd);
  if (refused(p.machine, "(descriptor)", envp)) return -1;
  if (plan_exec(p, "(descriptor)", envp, /*by_path=*/false) == ExecPlan::Refused) return -1;
  auto real = next_symbol_cached("fexecve", g_fexecve);
  return real ? real(fd, argv, envp) : missing();
}

SOCKSIFY_HOOK int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                           int flags) {
  Program p;
  const int fd = static_cast<int>(
      ::syscall(SYS_openat, dirfd, path,
                O_RDONLY | O_CLOEXEC | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0)));
  if (fd >= 0) {
    p = program_of_fd(fd);
    ::syscall(SYS_close, fd);
  } else if (*path == '\0' && (flags & AT_EMPTY_PATH)) {
    p = program_of_fd(dirfd);
  }
  const char* what = *path ? path : "(descriptor)";
  if (refused(p.machine, what, envp)) return -1;
  if (plan_exec(p, what, envp, /*by_path=*/false) == ExecPlan::Refused) return -1;
  auto real = next_symbol_cached("execveat", g_execveat);
  return real ? real(dirfd, path, argv, envp, flags) : missing();
}

// posix_spawn reports failure as its return value, errno untouched.
SOCKSIFY_HOOK int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                              const posix_spawnattr_t* attr, char* const argv[],
                              char* const envp[]) {
  return spawn_checked(false, "posix_spawn", g_spawn, pid, path, fa, attr, argv, envp);
}

SOCKSIFY_HOOK int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa,
                               const posix_spawnattr_t* attr, char* const argv[],
                               char* const envp[]) {
  return spawn_checked(true, "posix_spawnp", g_spawnp, pid, file, fa, attr, argv, envp);
}

}  // extern "C"
