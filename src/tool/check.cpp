#include "tool/check.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "base/decimal.hpp"
#include "base/named.hpp"
#include "config/config_file.hpp"
#include "config/effective.hpp"
#include "core/log.hpp"
#include "core/route.hpp"
#include "core/runtime.hpp"
#include "core/session.hpp"
#include "core/session_io.hpp"
#include "core/session_outcome.hpp"
#include "core/socket_stream.hpp"
#include "core/upstream.hpp"
#include "socks5/handshake.hpp"
#include "tool/config_report.hpp"
#include "tool/supervised_launch.hpp"

namespace socksify {
namespace {

// "ECONNREFUSED (Connection refused)": the greppable name and the readable text.
std::string describe_errno(int e) {
  return fmt::format("{} ({})", log::errno_name(e), std::strerror(e));
}

// A descriptor closed on every path out.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Passes bytes through and keeps the first two the proxy sent: the method
// choice (RFC 1928 §3), which handshake() does not report.
class RecordingStream final : public socks5::Stream {
 public:
  explicit RecordingStream(socks5::Stream& inner) : inner_(inner) {}
  Result<std::size_t> read_some(std::span<std::byte> buf) override {
    auto n = inner_.read_some(buf);
    if (n) {
      for (std::size_t i = 0; i < *n && seen_ < 2; ++i) first_[seen_++] = buf[i];
    }
    return n;
  }
  Result<std::size_t> write_some(std::span<const std::byte> buf) override {
    return inner_.write_some(buf);
  }
  std::optional<socks5::Method> method() const {
    if (seen_ < 2) return std::nullopt;
    return static_cast<socks5::Method>(first_[1]);
  }

 private:
  socks5::Stream& inner_;
  std::byte first_[2]{};
  std::size_t seen_ = 0;
};

constexpr Named<socks5::Method> kMethodNames[] = {
    {socks5::Method::NoAuth, "no authentication"},
    {socks5::Method::UserPassword, "username/password"},
    {socks5::Method::Gssapi, "GSSAPI"},
    {socks5::Method::NoAcceptable, "none acceptable"},
};

std::string_view method_name(socks5::Method m) {
  return name_of(kMethodNames, m, "unknown");
}

// One verdict line per step; remembers whether any failed.
class Report {
 public:
  void ok(std::string_view step, std::string_view detail = {}) {
    if (detail.empty()) {
      fmt::print("  {}: ok\n", step);
    } else {
      fmt::print("  {}: ok ({})\n", step, detail);
    }
  }
  void failed(std::string_view step, std::string_view why) {
    fmt::print("  {}: FAILED: {}\n", step, why);
    failures_++;
  }
  void skipped(std::string_view step, std::string_view why) {
    fmt::print("  {}: skipped ({})\n", step, why);
  }
  int failures() const { return failures_; }

 private:
  int failures_ = 0;
};

// HOST:PORT, [IPv6]:PORT.
std::optional<Endpoint> parse_target(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  const auto parsed = parse_decimal(port_text, 65535);
  if (host.empty() || !parsed || *parsed == 0) return std::nullopt;
  const auto port = static_cast<std::uint16_t>(*parsed);
  const std::string h(host);
  std::uint8_t a[16];
  if (inet_pton(AF_INET, h.c_str(), a) == 1) {
    return Endpoint::ipv4(std::span<const std::uint8_t, 4>(a, 4), static_cast<std::uint16_t>(port));
  }
  if (inet_pton(AF_INET6, h.c_str(), a) == 1) {
    return Endpoint::ipv6(std::span<const std::uint8_t, 16>(a, 16),
                          static_cast<std::uint16_t>(port));
  }
  return Endpoint::name(host, static_cast<std::uint16_t>(port));
}

// A name target with local DNS: resolved here, as the library would.
Result<Endpoint, std::string> resolve_locally(const Endpoint& target) {
  if (target.kind() != Endpoint::Kind::Name) return target;
  const std::string host(target.host_name());
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr)
    return fmt::format("cannot resolve {}: {}", host, gai_strerror(rc));
  auto ep = Endpoint::from_sockaddr(res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (!ep) return fmt::format("cannot resolve {}: no IPv4 or IPv6 address", host);
  ep->set_port(target.port());
  return *ep;
}

// A non-blocking TCP socket connected to proxy i, or why not.
Result<int, std::string> reach(const Runtime& rt, std::size_t i, Deadline deadline,
                               Endpoint* proxy_address) {
  sockaddr_storage addr;
  const socklen_t len = rt.proxy_address(i, AF_INET, addr);
  if (len == 0) return std::string("cannot resolve the proxy's host name");
  if (auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&addr), len))
    *proxy_address = *ep;
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return describe_errno(errno);
  if (auto c = connect_within(fd, reinterpret_cast<sockaddr*>(&addr), len, deadline); !c) {
    ::close(fd);
    return describe_errno(c.error().code);
  }
  return fd;
}

std::string failure_text(const socks5::Failure& f) {
  return fmt::format("{} ({})", f.what, log::errno_name(f.error.code));
}

// UDP ASSOCIATE or BIND (when the settings use them) on a fresh control
// connection, then closed: the first reply says where the proxy relays or listens.
void check_side_request(const Runtime& rt, std::size_t i, socks5::Command cmd, Report& report) {
  const ProxySpec& spec = rt.proxies()[i].spec;
  const bool udp = cmd == socks5::Command::UdpAssociate;
  const char* step = udp ? "udp associate" : "bind";
  if (udp ? !rt.settings().udp : !rt.settings().bind) {
    report.skipped(step, udp ? "udp off" : "bind off");
    return;
  }
  // An HTTP proxy has no UDP or BIND to ask for: say so without sending anything.
  if (const Upstream& up = upstream_for(spec); !up.carries(cmd)) {
    report.failed(step, fmt::format("{}{}", up.refusal(cmd),
                                    udp ? " (set udp off if no program needs it)"
                                        : " (set bind off if no program needs it)"));
    return;
  }
  Endpoint proxy_ep;
  const auto timeout = rt.settings().connect_timeout;
  auto fd = reach(rt, i, Clock::now() + timeout, &proxy_ep);
  if (!fd) {
    report.failed(step, fmt::format("proxy unreachable: {}", fd.error()));
    return;
  }
  Socket control(*fd);
  SocketStream stream(control.get(), Clock::now() + timeout);
  // RFC 1928 §4 and §7: the peer's (BIND) or our (UDP) address when known, else zeros.
  static constexpr std::uint8_t kAny[4] = {0, 0, 0, 0};
  auto reply = upstream_for(spec).open(stream, spec, cmd, Endpoint::ipv4(kAny, 0));
  if (!reply) {
    std::string why = failure_text(reply.error());
    if (reply.error().reply == static_cast<std::uint8_t>(socks5::ReplyCode::CommandNotSupported)) {
      why += udp ? ": this proxy does not relay UDP (set udp off if no program needs it)"
                 : ": this proxy does not do BIND (set bind off)";
    }
    report.failed(step, why);
  } else if (reply->bound.port() == 0) {
    report.failed(step, udp ? "the proxy named relay port 0" : "the proxy named listening port 0");
  } else {
    report.ok(step,
              fmt::format("{} {}, closed again", udp ? "relay" : "listening at", reply->bound));
  }
}

// Whether proxy i takes the pipelined handshake (issue 12), on a connection of
// its own: the steps before ran one message per round trip, so that a failure
// names its message. Not taking it is no failure under pipeline auto: the
// library then falls back, paying one probe per process.
void check_pipelining(const Runtime& rt, std::size_t i, const Endpoint& target, Report& report) {
  const Pipeline mode = rt.settings().pipeline;
  if (mode == Pipeline::Off) {
    report.skipped("pipeline", "pipeline off");
    return;
  }
  const ProxySpec& spec = rt.proxies()[i].spec;
  const Deadline deadline = Clock::now() + rt.settings().connect_timeout;
  Endpoint proxy_ep;
  auto fd = reach(rt, i, deadline, &proxy_ep);
  if (!fd) {
    report.failed("pipeline", fd.error());
    return;
  }
  Socket control(*fd);
  SocketStream stream(control.get(), deadline);
  const auto how = mode == Pipeline::On ? socks5::Pipelining::On : socks5::Pipelining::Probe;
  auto reply =
      upstream_for(spec).open_pipelined(stream, spec, socks5::Command::Connect, target, how);
  if (reply) {
    report.ok("pipeline", "took greeting, auth and request in one write");
  } else if (reply.error().retry_sequential) {
    report.ok("pipeline", fmt::format("not taken ({}): the library asks again one message per "
                                      "round trip, once per process",
                                      reply.error().what));
  } else if (reply.error().reply != 0) {
    report.ok("pipeline", fmt::format("took it; the proxy answered: {}", reply.error().what));
  } else {
    report.failed("pipeline", failure_text(reply.error()));
  }
}

// Every step against proxy i. Returns nothing; verdicts go to `report`.
void check_proxy(const Runtime& rt, std::size_t i, const std::optional<Endpoint>& wanted,
                 Report& report) {
  const ProxySpec& spec = rt.proxies()[i].spec;
  const auto timeout = rt.settings().connect_timeout;
  fmt::print("proxy {}: {}\n", i + 1, spec.display());

  // TCP.
  Endpoint proxy_ep;
  auto fd = reach(rt, i, Clock::now() + timeout, &proxy_ep);
  if (!fd) {
    report.failed("tcp", fd.error());
    for (const auto* step : {"greeting", "auth", "connect", "udp associate", "bind"}) {
      report.skipped(step, "proxy unreachable");
    }
    return;
  }
  Socket control(*fd);
  report.ok("tcp", fmt::format("connected to {}", proxy_ep));

  // What to CONNECT to: the proxy's own address unless told otherwise.
  Endpoint target = proxy_ep.unmapped();
  if (wanted) {
    target = *wanted;
    if (!spec.remote_dns) {
      auto resolved = resolve_locally(*wanted);
      if (!resolved) {
        report.failed("connect", resolved.error());
        return;
      }
      target = *resolved;
    }
  }

  // Greeting, auth and CONNECT: the library's handshake (the proxy's Upstream) on our socket.
  const bool with_creds = !spec.user.empty();
  SocketStream socket_stream(control.get(), Clock::now() + timeout);
  RecordingStream stream(socket_stream);
  const std::string connect_step = fmt::format("connect {}", target);
  auto reply = upstream_for(spec).open(stream, spec, socks5::Command::Connect, target);
  // The first two reply bytes are a SOCKS5 method choice only when SOCKS5 is spoken.
  const auto method = spec.protocol == ProxyProtocol::Socks5 ? stream.method() : std::nullopt;
  const std::string chose =
      method ? fmt::format("proxy chose {}", method_name(*method)) : std::string();
  if (!reply && (reply.error().stage == socks5::Stage::Greeting ||
                 reply.error().stage == socks5::Stage::Method)) {
    std::string why = failure_text(reply.error());
    if (method == socks5::Method::NoAcceptable) {
      why += with_creds ? ": the proxy accepts neither no-auth nor username/password"
                        : ": the proxy wants credentials (set a user and password)";
    }
    report.failed("greeting", why);
    report.skipped("auth", "greeting failed");
    report.skipped(connect_step, "greeting failed");
    report.skipped("udp associate", "greeting failed");
    report.skipped("bind", "greeting failed");
    return;
  }
  // SOCKS4 has no greeting and no auth exchange: its USERID rides in the request.
  // HTTP has no greeting either: Basic credentials ride with CONNECT.
  const bool socks4 =
      spec.protocol == ProxyProtocol::Socks4 || spec.protocol == ProxyProtocol::Socks4a;
  if (socks4) {
    report.skipped("greeting", "SOCKS4 has none");
  } else if (spec.protocol == ProxyProtocol::Http) {
    report.skipped("greeting", "HTTP CONNECT has none");
  } else {
    report.ok("greeting", chose);
  }
  const bool asked_auth = method == socks5::Method::UserPassword;
  if (!reply && reply.error().stage == socks5::Stage::Auth) {
    report.failed("auth", failure_text(reply.error()));
    report.skipped(connect_step, "auth failed");
    report.skipped("udp associate", "auth failed");
    report.skipped("bind", "auth failed");
    return;
  }
  if (socks4) {
    report.skipped("auth", with_creds ? "SOCKS4 sends the user id in the request"
                                      : "no credentials configured");
  } else if (spec.protocol == ProxyProtocol::Http && with_creds) {
    // HTTP sends Basic credentials with the CONNECT request itself: a 401 or
    // 407 answer (EACCES) is the auth failing, anything else got past it.
    if (!reply && reply.error().error.code == EACCES) {
      report.failed("auth", failure_text(reply.error()));
      report.skipped(connect_step, "auth failed");
      report.skipped("udp associate", "auth failed");
      report.skipped("bind", "auth failed");
      return;
    }
    report.ok("auth", fmt::format("Basic credentials for user '{}' sent with CONNECT", spec.user));
  } else if (asked_auth) {
    report.ok("auth", fmt::format("accepted user '{}'", spec.user));
  } else if (with_creds) {
    report.ok("auth", "not asked: the proxy chose no authentication");
  } else {
    report.skipped("auth", "no credentials configured");
  }
  if (reply) {
    report.ok(connect_step, fmt::format("bound {}", reply->bound));
  } else if (!wanted && reply.error().reply != 0) {
    // The proxy parsed the request and answered it: the exchange works. Many
    // proxies (danted among them) refuse to connect to their own listening
    // address, so a refusal of the default target proves no more than that.
    report.ok(connect_step,
              fmt::format("the proxy answered: {}; proxies often refuse to connect to "
                          "themselves, give --check-target HOST:PORT to try a real destination",
                          reply.error().what));
  } else {
    report.failed(connect_step, failure_text(reply.error()));
  }
  if (reply || reply.error().reply != 0) check_pipelining(rt, i, target, report);

  check_side_request(rt, i, socks5::Command::UdpAssociate, report);
  check_side_request(rt, i, socks5::Command::Bind, report);
}

// "corp (failover: http://10.0.0.5:3128)", "the unnamed proxies (chain: a, b)".
std::string describe_group(const Runtime& rt, std::size_t g) {
  const Settings& s = rt.settings();
  std::string out = g == 0 ? std::string("the unnamed proxies") : s.named_proxies[g - 1].name;
  out += fmt::format(" ({}:", proxy_mode_name(s.group_mode(g)));
  for (const ProxyTarget& p : rt.group_proxies(g)) out += " " + p.spec.display();
  return out + ")";
}

// Which rule and proxy a destination would take, as route_for decides it for
// a program's connect() (a name as the remote-DNS table hands it back). The
// group to try it through; nullopt when it goes direct or is refused.
std::optional<std::size_t> print_route(const Runtime& rt, const Endpoint& target) {
  const Settings& s = rt.settings();
  const RouteChoice c = choose_route(s, target.unmapped());
  const std::string rule = c.rule == kNoRoute
                               ? std::string("no route rule matches")
                               : fmt::format("rule {} '{}' ({})", c.rule + 1, s.routes[c.rule].text,
                                             s.routes[c.rule].origin);
  switch (c.action) {
    case RouteRule::Action::Direct:
      fmt::print("route: {} -> direct ({})\n", target,
                 c.direct_rule ? "loopback or a 'direct' rule" : rule);
      return std::nullopt;
    case RouteRule::Action::Block:
      fmt::print("route: {} -> blocked by {}: connect fails with EACCES\n", target, rule);
      return std::nullopt;
    case RouteRule::Action::Via:
      break;
  }
  fmt::print("route: {} -> {}: {}\n", target, rule, describe_group(rt, c.group));
  if (target.kind() == Endpoint::Kind::Name && !s.remote_dns()) {
    fmt::print(
        "  note: every proxy resolves names locally (socks5://, socks4://): a program connects "
        "to an address, so only address rules match its connections\n");
  }
  return c.group;
}

// The library's own path (open_session): the failover pool or the chain, as a
// program's connect() would take it.
void check_library_path(const Runtime& rt, const std::optional<Endpoint>& wanted, Report& report,
                        std::size_t group = 0) {
  const auto proxies = rt.group_proxies(group);
  const ProxyMode mode = rt.settings().group_mode(group);
  const bool chain = mode == ProxyMode::Chain && proxies.size() > 1;
  std::string name;
  if (group != 0) name = fmt::format(" ({})", rt.settings().named_proxies[group - 1].name);
  fmt::print("{} of {} proxies{}, as the library connects:\n", chain ? "chain" : "pool",
             proxies.size(), name);
  Endpoint target;
  if (wanted) {
    target = *wanted;
  } else {
    sockaddr_storage addr;
    const std::size_t last = chain ? proxies.size() - 1 : 0;
    const socklen_t len = rt.proxy_address(rt.group_first(group) + last, AF_INET, addr);
    auto ep = len ? Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&addr), len) : std::nullopt;
    if (!ep) {
      report.failed("connect", "cannot resolve the proxy's host name");
      return;
    }
    target = *ep;
  }
  const std::string step = fmt::format("connect {}", target);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    report.failed(step, describe_errno(errno));
    return;
  }
  Socket s(fd);
  // The library's session, on its own runtime and real sockets, but silent:
  // the verdict says what its log line would (the same formatter).
  SystemSessionIo io;
  SessionOutcome outcome;
  SessionOptions options;
  options.group = group;
  auto reply = open_session(rt, io, fd, socks5::Command::Connect, target, outcome, options);
  if (reply) {
    report.ok(step, fmt::format("bound {}", reply->bound));
  } else if (const SessionAttempt* last = outcome.last_failure()) {
    fmt::memory_buffer why;
    format_attempt(why, outcome, *last);
    report.failed(step, fmt::to_string(why));
  } else {
    report.failed(step, describe_errno(reply.error().code));
  }
}

void print_configuration(const EffectiveSettings& effective, const CheckOptions& options) {
  fmt::print("configuration:\n");
  fmt::print("  config file: {}\n", effective.file
                                        ? *effective.file
                                        : std::string("none (environment and defaults only)"));
  std::optional<ConfigText> text;
  if (effective.file) {
    if (auto read = read_config_file(*effective.file)) text = std::move(read->file);
  }
  for (const ConfigRow& row : config_report(process_environment, text, options.flag_vars)) {
    if (row.origin == "unset") {
      fmt::print("  {:<18} (unset)\n", row.key);
    } else {
      fmt::print("  {:<18} {}  [{}]\n", row.key, row.value, row.origin);
    }
  }
  for (const auto& w : effective.warnings) fmt::print("  warning: {}\n", w);
}

}  // namespace

int run_check(const CheckOptions& options) {
  std::optional<Endpoint> wanted;
  if (options.target) {
    wanted = parse_target(*options.target);
    if (!wanted) {
      fmt::print(stderr, "socksify: --check-target wants HOST:PORT or [IPv6]:PORT, got '{}'\n",
                 *options.target);
      return 2;
    }
  }

  const EffectiveSettings effective = load_effective_settings(process_environment);
  print_configuration(effective, options);
  print_mode_report();
  Report report;
  if (!effective.settings) {
    for (const auto& e : effective.settings.error()) fmt::print("  error: {}\n", e);
    report.failed("configuration", "see the errors above");
    fmt::print("result: FAILED (the configuration does not load)\n");
    return 1;
  }
  report.ok("configuration");

  // The same Runtime a preloaded program builds from this environment. Its
  // log lines would repeat what the verdicts say, so they stay off unless the
  // user asked for debug output.
  const Runtime& rt = Runtime::get();
  if (rt.settings().log_level < LogLevel::Info) log::set_level(LogLevel::Quiet);
  if (!rt.configured()) {
    report.failed("runtime", rt.config_error());
    fmt::print("result: FAILED\n");
    return 1;
  }

  std::optional<std::size_t> routed;
  if (wanted) routed = print_route(rt, *wanted);
  const bool chain = rt.settings().proxy_mode == ProxyMode::Chain && rt.proxies().size() > 1;
  if (rt.proxies().empty()) {
    fmt::print("no unnamed proxies: only route rules lead to proxies\n");
  } else if (chain) {
    // Later hops are reachable only through the earlier ones: check hop 1
    // directly, the whole chain as the library builds it.
    fmt::print(
        "chain mode: proxies 2..{} are reached through proxy 1, only the whole chain is "
        "checked beyond it\n",
        rt.proxies().size());
    check_library_path(rt, wanted, report);
  } else {
    for (std::size_t i = 0; i < rt.proxies().size(); ++i) check_proxy(rt, i, wanted, report);
    // The pool as the library uses it, toward a real destination (the default
    // target, a proxy itself, is often refused: see check_proxy).
    if (rt.proxies().size() > 1 && wanted) check_library_path(rt, wanted, report);
  }
  // The destination's own route, through its named proxy or pool.
  if (routed && *routed != 0) check_library_path(rt, wanted, report, *routed);

  if (report.failures() == 0) {
    fmt::print("result: ok (all checks passed)\n");
    return 0;
  }
  fmt::print("result: FAILED ({} check{} failed)\n", report.failures(),
             report.failures() == 1 ? "" : "s");
  return 1;
}

}  // namespace socksify
