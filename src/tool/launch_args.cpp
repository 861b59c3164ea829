#include "tool/launch_args.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config/config_file.hpp"

namespace socksify {
namespace {

// An option with a value: "-x URL", "-xURL", "--proxy URL" or "--proxy=URL".
// Returns the value and advances i past it, or nullopt if arg is not this option.
struct ValueOption {
  std::string_view short_name;  // "-x" or empty
  std::string_view long_name;   // "--proxy"
  std::string_view what;        // "a URL": for the error when the value is missing
};

enum class Match { No, Yes, MissingValue };

Match take_value(const ValueOption& opt, int argc, const char* const* argv, int& i,
                 std::string& value) {
  const std::string_view arg = argv[i];
  std::string_view rest;
  bool attached = false;
  if (arg == opt.long_name || (!opt.short_name.empty() && arg == opt.short_name)) {
    attached = false;
  } else if (arg.size() > opt.long_name.size() + 1 && arg.starts_with(opt.long_name) &&
             arg[opt.long_name.size()] == '=') {
    rest = arg.substr(opt.long_name.size() + 1);
    attached = true;
  } else if (!opt.short_name.empty() && arg.size() > 2 && arg.starts_with(opt.short_name)) {
    rest = arg.substr(2);
    attached = true;
  } else {
    return Match::No;
  }
  if (attached) {
    value.assign(rest);
    ++i;
    return Match::Yes;
  }
  if (i + 1 >= argc) return Match::MissingValue;
  value = argv[i + 1];
  i += 2;
  return Match::Yes;
}

constexpr ValueOption kProxy{"-x", "--proxy", "a URL"};
constexpr ValueOption kConfig{"-f", "--config", "a file"};
constexpr ValueOption kTarget{"", "--check-target", "HOST:PORT"};

}  // namespace

std::vector<std::string> flag_variables(const LaunchArgs& args) {
  std::vector<std::string> names;
  for (const auto& [name, value] : args.env) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

Result<LaunchArgs, Message> parse_launch_args(int argc, const char* const* argv) {
  LaunchArgs out;
  bool check = false;
  int i = 1;
  while (i < argc) {
    const std::string_view arg = argv[i];
    std::string value;
    bool matched = false;
    for (const auto* opt : {&kProxy, &kConfig, &kTarget}) {
      const Match m = take_value(*opt, argc, argv, i, value);
      if (m == Match::No) continue;
      if (m == Match::MissingValue) {
        return Message{fmt::format("option {} needs {} (try --help)", arg, opt->what)};
      }
      if (opt == &kProxy) {
        if (proxy_list_mentions_password(value)) out.password_in_arguments = true;
        out.env.emplace_back("SOCKSIFY_PROXY", value);
      }
      if (opt == &kConfig) out.env.emplace_back("SOCKSIFY_CONF_FILE", value);
      if (opt == &kTarget) out.check_target = value;
      matched = true;
      break;
    }
    if (matched) continue;
    if (arg == "-q" || arg == "--quiet") {
      out.env.emplace_back("SOCKSIFY_LOG_LEVEL", "quiet");
    } else if (arg == "-d" || arg == "--debug") {
      out.env.emplace_back("SOCKSIFY_LOG_LEVEL", "debug");
    } else if (arg == "-v" || arg == "--verbose") {
      out.env.emplace_back("SOCKSIFY_VERBOSE", "on");
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "-h" || arg == "--help") {
      out.action = LaunchArgs::Action::Help;
      return out;
    } else if (arg == "-V" || arg == "--version") {
      out.action = LaunchArgs::Action::Version;
      return out;
    } else if (arg == "--") {
      ++i;
      break;
    } else if (arg.starts_with("-")) {
      return Message{fmt::format("unknown option {} (try --help)", arg)};
    } else {
      break;
    }
    ++i;
  }
  if (out.check_target && !check) return Message{"--check-target needs --check"};
  if (check) {
    if (i < argc) return Message{fmt::format("--check runs no program (got {})", argv[i])};
    out.action = LaunchArgs::Action::Check;
    return out;
  }
  if (i >= argc) return Message{""};
  out.program_index = i;
  return out;
}

std::string_view launch_usage() {
  return R"(Usage: socksify [OPTIONS] [--] PROGRAM [ARGS...]
       socksify [OPTIONS] --check [--check-target HOST:PORT]
Run PROGRAM with its TCP and UDP traffic carried by a SOCKS5 proxy.

Options:
  -x, --proxy URL     proxy URL: socks5://[user[:pass]@]host[:port] resolves names
                      locally, socks5h://... hands them to the proxy (remote DNS).
                      socks4://[user@]host[:port] speaks SOCKS4 (IPv4, names
                      resolved locally, no UDP), socks4a://... sends names to
                      the proxy; user is the USERID, a password is refused.
                      http://[user:pass@]host[:port] is an HTTP proxy (CONNECT,
                      Basic auth, names to the proxy; TCP only, no UDP or BIND).
                      Several URLs separated by commas form a failover pool
                      (SOCKSIFY_PROXY_MODE: chain, round_robin, random).
                      Default: $SOCKSIFY_PROXY. The port defaults to 1080.
                      Named proxies and route rules live in the config file
                      (proxy NAME URL..., route DEST via NAME|direct|block)
                      or in SOCKSIFY_PROXY / SOCKSIFY_ROUTE, ';'-separated.
                      A password here is visible to every user (ps): prefer
                      a config file of mode 0600 (-f), or SOCKSIFY_PASSWORD.
  -f, --config FILE   read settings from FILE (see socksify.conf(5)); passed
                      to the program as an absolute path
  -q, --quiet         print nothing, not even errors
  -d, --debug         print every decision socksify takes
  -v, --verbose       one line per connection, UDP association and name lookup
                      (destination, rule, proxy chain, outcome, milliseconds);
                      log_format json for one JSON object per line
      --check         print the effective configuration and where each setting
                      came from, then test every proxy (TCP, greeting, auth,
                      CONNECT, UDP ASSOCIATE, BIND if on); exit 0 only if all pass
      --check-target HOST:PORT
                      what --check asks the proxy to CONNECT to (default: the
                      proxy's own address and port); also prints which route
                      rule and proxy that destination takes
  -h, --help          show this help and exit
  -V, --version       show the version and exit

Environment: SOCKSIFY_PROXY, SOCKSIFY_ROUTE, SOCKSIFY_USERNAME, SOCKSIFY_PASSWORD,
SOCKSIFY_ISOLATE, SOCKSIFY_VERBOSE, SOCKSIFY_LOG_FORMAT, SOCKSIFY_LOG_LEVEL,
SOCKSIFY_CONNECT_TIMEOUT and more: see socksify(1).
Exit status: 125 if socksify itself fails, 126 if PROGRAM cannot be executed,
127 if it is not found, else PROGRAM's own status.
)";
}

}  // namespace socksify
