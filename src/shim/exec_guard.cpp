// exec of a program of the other ELF class. The loader expands "$LIB" in
// LD_PRELOAD to each program's own library directory, so a tree preloaded as
// ROOT/$LIB/libsocksify.so stays proxied across a 64-bit -> i386 exec (and back)
// when both libraries are installed. Preloaded by a plain path, or with the
// other class's library missing, the loader would print "wrong ELF class:
// ignored" and run the new program unproxied; these hooks refuse that exec
// instead (EACCES, one line on stderr), fail closed as everywhere else.
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

ElfMachine machine_of_fd(int fd) {
  std::byte head[64];
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  return socksify::elf_machine(std::span(head, n > 0 ? static_cast<std::size_t>(n) : 0));
}

ElfMachine machine_of(const char* path) {
  const int fd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return ElfMachine::NotElf;  // the exec itself reports what is wrong
  const ElfMachine m = machine_of_fd(fd);
  ::syscall(SYS_close, fd);
  return m;
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

bool refused_path(const char* path, char* const envp[]) {
  return path != nullptr && refused(machine_of(path), path, envp);
}

// execvp's search, to know which file it will run (it runs the first
// executable one; a directory or a non-executable file is skipped).
bool refused_search(const char* file, char* const envp[]) {
  if (file == nullptr || *file == '\0') return false;
  if (std::strchr(file, '/') != nullptr) return refused_path(file, envp);
  const char* path_var = std::getenv("PATH");
  const char* p = path_var && *path_var ? path_var : "/bin:/usr/bin";
  char candidate[PATH_MAX];
  const std::size_t flen = std::strlen(file);
  while (true) {
    const std::size_t n = std::strcspn(p, ":");
    if (n + 1 + flen < sizeof candidate) {
      std::memcpy(candidate, n ? p : ".", n ? n : 1);
      const std::size_t dlen = n ? n : 1;
      candidate[dlen] = '/';
      std::memcpy(candidate + dlen + 1, file, flen + 1);
      if (::access(candidate, X_OK) == 0) return refused_path(candidate, envp);
    }
    if (p[n] == '\0') return false;
    p += n + 1;
  }
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
// errno alone, whatever the check (refused_path or refused_search) touched.
int spawn_unless_refused(bool (*check)(const char*, char* const[]), const char* name,
                         std::atomic<spawn_fn>& slot, pid_t* pid, const char* what,
                         const posix_spawn_file_actions_t* fa, const posix_spawnattr_t* attr,
                         char* const argv[], char* const envp[]) {
  const int saved = errno;
  const bool refuse = check(what, envp);
  errno = saved;
  if (refuse) return EACCES;
  auto real = next_symbol_cached(name, slot);
  return real ? real(pid, what, fa, attr, argv, envp) : ENOSYS;
}

int do_execve(const char* path, char* const argv[], char* const envp[]) {
  if (refused_path(path, envp)) return -1;
  auto real = next_symbol_cached("execve", g_execve);
  return real ? real(path, argv, envp) : missing();
}

int do_execvpe(const char* file, char* const argv[], char* const envp[]) {
  if (refused_search(file, envp)) return -1;
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
  if (refused(machine_of_fd(fd), "(descriptor)", envp)) return -1;
  auto real = next_symbol_cached("fexecve", g_fexecve);
  return real ? real(fd, argv, envp) : missing();
}

SOCKSIFY_HOOK int execveat(int dirfd, const char* path, char* const argv[], char* const envp[],
                           int flags) {
  ElfMachine m = ElfMachine::NotElf;
  const int fd = static_cast<int>(
      ::syscall(SYS_openat, dirfd, path,
                O_RDONLY | O_CLOEXEC | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0)));
  if (fd >= 0) {
    m = machine_of_fd(fd);
    ::syscall(SYS_close, fd);
  } else if (*path == '\0' && (flags & AT_EMPTY_PATH)) {
    m = machine_of_fd(dirfd);
  }
  if (refused(m, *path ? path : "(descriptor)", envp)) return -1;
  auto real = next_symbol_cached("execveat", g_execveat);
  return real ? real(dirfd, path, argv, envp, flags) : missing();
}

// posix_spawn reports failure as its return value, errno untouched.
SOCKSIFY_HOOK int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                              const posix_spawnattr_t* attr, char* const argv[],
                              char* const envp[]) {
  return spawn_unless_refused(refused_path, "posix_spawn", g_spawn, pid, path, fa, attr, argv,
                              envp);
}

SOCKSIFY_HOOK int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa,
                               const posix_spawnattr_t* attr, char* const argv[],
                               char* const envp[]) {
  return spawn_unless_refused(refused_search, "posix_spawnp", g_spawnp, pid, file, fa, attr, argv,
                              envp);
}

}  // extern "C"
