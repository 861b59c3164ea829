// socksify-config: the launcher's helper. It shares the library's parsers, so
// the launcher rejects exactly what the library would, before the program runs.
//   socksify-config validate        check the environment's configuration
//   socksify-config print           print the effective configuration
//   socksify-config linkage FILE    "static", "dynamic" or "not-elf"
//   socksify-config prepare FILE    validate, and warn if FILE is statically linked
//   socksify-config check [--target HOST:PORT] [--from-flag VAR]...
//                                   socksify --check: configuration and proxy checks
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "config/effective.hpp"
#include "config/settings.hpp"
#include "tool/check.hpp"
#include "tool/elf_probe.hpp"

namespace {

using namespace socksify;

const char* getenv_lookup(const char* name) { return std::getenv(name); }

std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Quiet: return "quiet";
    case LogLevel::Error: return "error";
    case LogLevel::Warn: return "warn";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
  }
  return "?";
}

// The library's own loader; warnings and errors as the launcher shows them.
std::optional<Settings> load() {
  auto effective = load_effective_settings(getenv_lookup);
  for (const auto& w : effective.warnings) fmt::print(stderr, "socksify: warning: {}\n", w);
  if (!effective.settings) {
    for (const auto& e : effective.settings.error()) fmt::print(stderr, "socksify: {}\n", e);
    return std::nullopt;
  }
  return std::move(effective.settings.value());
}

int validate() { return load() ? 0 : 1; }

int print() {
  auto s = load();
  if (!s) return 1;
  for (const auto& p : s->proxies) fmt::print("proxy            {}\n", p.display());
  fmt::print("dns              {}\n", s->remote_dns() ? "remote (names go to the proxy)" : "local");
  fmt::print("direct_loopback  {}\n", s->direct_loopback ? "on" : "off");
  fmt::print("udp              {}\n", s->udp ? "on" : "off");
  fmt::print("connect_timeout  {} ms\n", s->connect_timeout.count());
  fmt::print("log_level        {}\n", level_name(s->log_level));
  return 0;
}

ElfLinkage file_linkage(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ElfLinkage::NotElf;
  std::byte head[4096];
  const ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  return elf_linkage(std::span(head, n > 0 ? static_cast<std::size_t>(n) : 0));
}

int linkage(const char* path) {
  const auto kind = file_linkage(path);
  fmt::print("{}\n", kind == ElfLinkage::Static    ? "static"
                     : kind == ElfLinkage::Dynamic ? "dynamic"
                                                   : "not-elf");
  return 0;
}

// The launcher's one call before exec: settings valid (else exit 1), and a
// warning when the program is out of LD_PRELOAD's reach.
int prepare(const char* path) {
  if (!load()) return 1;
  if (file_linkage(path) == ElfLinkage::Static) {
    fmt::print(stderr,
               "socksify: warning: {} is statically linked: LD_PRELOAD cannot reach it, its "
               "traffic will NOT go through the proxy\n",
               path);
  }
  return 0;
}

// check [--target HOST:PORT] [--from-flag VAR]...
int check(int argc, char** argv) {
  CheckOptions options;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--target" && i + 1 < argc) {
      options.target = argv[++i];
    } else if (arg == "--from-flag" && i + 1 < argc) {
      options.flag_vars.emplace_back(argv[++i]);
    } else {
      fmt::print(stderr, "socksify-config check: unexpected argument '{}'\n", arg);
      return 2;
    }
  }
  return run_check(options);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view cmd = argc > 1 ? argv[1] : "";
  if (cmd == "validate") return validate();
  if (cmd == "print") return print();
  if (cmd == "linkage" && argc == 3) return linkage(argv[2]);
  if (cmd == "prepare" && argc == 3) return prepare(argv[2]);
  if (cmd == "check") return check(argc, argv);
  fmt::print(stderr,
             "usage: socksify-config validate | print | linkage FILE | prepare FILE | check "
             "[--target HOST:PORT] [--from-flag VAR]...\n");
  return 2;
}
