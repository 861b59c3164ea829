// The option table and the value parsers behind it. Adding an option is one
// row in kOptions (plus its field in Settings).
#include "config/options.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <array>

#include "base/ascii.hpp"
#include "base/decimal.hpp"
#include "base/named.hpp"

namespace socksify::config_detail {
namespace {

// RFC 1929 §2: one length byte each for user name and password.
constexpr std::size_t kMaxCredential = 255;
constexpr long kMaxTimeoutMs = 3'600'000;

// Same spellings as mimalloc and most tools, so nobody has to look them up.
Result<bool, Message> parse_bool(std::string_view v) {
  for (const auto word : {"1", "true", "yes", "on"}) {
    if (ascii::iequals(v, word)) return true;
  }
  for (const auto word : {"0", "false", "no", "off"}) {
    if (ascii::iequals(v, word)) return false;
  }
  return Message{fmt::format("expected 1/true/yes/on or 0/false/no/off, got '{}'", v)};
}

// An on/off setting.
template <bool Settings::*field>
Result<void, Message> apply_flag(std::string_view v, Draft& d) {
  auto b = parse_bool(v);
  if (!b) return b.error();
  d.settings.*field = *b;
  return {};
}

// One of the words in a table, in ASCII without case; the message lists them
// ("expected a, b or c, got 'x'").
template <typename E, std::size_t N>
Result<E, Message> parse_word(const Named<E> (&words)[N], std::string_view v) {
  if (const auto e = value_named(words, v)) return *e;
  std::string expected;
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) expected += i + 1 == N ? " or " : ", ";
    expected += words[i].name;
  }
  return Message{fmt::format("expected {}, got '{}'", expected, v)};
}

// A list option's clear(): forgets what a lower layer put in the list.
template <auto field>
void clear_list(Draft& d) {
  (d.settings.*field).clear();
}

template <auto field, const auto& words>
Result<void, Message> apply_word(std::string_view v, Draft& d) {
  auto w = parse_word(words, v);
  if (!w) return w.error();
  d.settings.*field = *w;
  return {};
}

constexpr Named<LogFormat> kLogFormats[] = {{LogFormat::Text, "text"}, {LogFormat::Json, "json"}};
constexpr Named<Pipeline> kPipelines[] = {
    {Pipeline::Auto, "auto"}, {Pipeline::On, "on"}, {Pipeline::Off, "off"}};
constexpr Named<LogLevel> kLogLevels[] = {
    {LogLevel::Quiet, "quiet"}, {LogLevel::Error, "error"}, {LogLevel::Warn, "warn"},
    {LogLevel::Info, "info"},   {LogLevel::Debug, "debug"},
};
constexpr Named<bool> kDnsModes[] = {{true, "remote"}, {false, "local"}};

// One `proxy` line: a list of URLs for the unnamed pool, or a named proxy or
// pool ("corp http://...", "pool round_robin socks5://a socks5://b"). A name
// defined again (the environment over the file) replaces the earlier one.
bool proxy_line_is_definition(std::string_view line) {
  return is_proxy_definition(line) && split_list(line).size() >= 2;
}

Result<void, Message> apply_proxy(std::string_view v, Draft& d) {
  if (proxy_line_is_definition(v)) {
    auto group = parse_proxy_definition(v);
    if (!group) return group.error();
    auto& named = d.settings.named_proxies;
    for (ProxyGroup& g : named) {
      if (g.name == group->name) {
        g = std::move(*group);
        return {};
      }
    }
    named.push_back(std::move(*group));
    return {};
  }
  d.proxy_given = true;  // one URL (apply_value splits the list)
  auto spec = parse_proxy_url(v);
  if (!spec) return spec.error();
  d.settings.proxies.push_back(std::move(*spec));
  return {};
}

Result<void, Message> apply_route(std::string_view v, Draft& d) {
  auto rule = parse_route(v);
  if (!rule) return rule.error();
  rule->origin = d.where;
  d.settings.routes.push_back(std::move(*rule));
  return {};
}

Result<void, Message> apply_direct(std::string_view v, Draft& d) {
  auto rule = parse_direct_rule(v);
  if (!rule) return Message{fmt::format("'{}': {}", v, rule.error().text)};
  d.settings.direct_rules.push_back(std::move(*rule));
  return {};
}

Result<void, Message> apply_proxy_mode(std::string_view v, Draft& d) {
  auto mode = parse_proxy_mode(v);
  if (!mode) return mode.error();
  d.settings.proxy_mode = *mode;
  return {};
}

// Credentials are never quoted back, not even the user name: messages end up
// in bug reports, and a user name is half of a login.
constexpr char kUserName[] = "user name";
constexpr char kPassword[] = "password";
template <std::optional<std::string> Draft::*field, const char* what>
Result<void, Message> apply_credential(std::string_view v, Draft& d) {
  if (v.size() > kMaxCredential) {
    return Message{fmt::format("{} longer than 255 bytes (RFC 1929)", what)};
  }
  d.*field = std::string(v);
  return {};
}

Result<void, Message> apply_dns(std::string_view v, Draft& d) {
  auto remote = parse_word(kDnsModes, v);
  if (!remote) return remote.error();
  d.remote_dns = *remote;
  return {};
}

Result<void, Message> apply_log_file(std::string_view v, Draft& d) {
  d.settings.log_file = std::string(v);
  return {};
}

Result<void, Message> apply_connect_timeout(std::string_view v, Draft& d) {
  const auto bad = [&] {
    return Message{
        fmt::format("expected milliseconds between 1 and {}, got '{}'", kMaxTimeoutMs, v)};
  };
  const auto ms = parse_decimal(v, kMaxTimeoutMs);
  if (v.size() > 10 || !ms || *ms < 1) return bad();
  d.settings.connect_timeout = std::chrono::milliseconds(static_cast<long>(*ms));
  return {};
}

// A fake range hands out one address per name; below these sizes a busy
// program would exhaust it and start recycling addresses it still uses.
template <int family, unsigned max_prefix, Cidr Settings::*field>
Result<void, Message> apply_fake_range(std::string_view v, Draft& d) {
  auto c = parse_cidr(v);
  if (!c) return c.error();
  const int version = family == AF_INET ? 4 : 6;
  if (c->family != family) return Message{fmt::format("'{}' is not an IPv{} network", v, version)};
  if (c->prefix > max_prefix) {
    return Message{fmt::format("'{}' is too small for a fake range (prefix must be /{} or shorter)",
                               v, max_prefix)};
  }
  d.settings.*field = *c;
  return {};
}
// HOST:PORT, [IPv6]:PORT, or a host alone (port 53). A host name is sent to
// the proxy as a name (it resolves it), never looked up here.
Result<void, Message> apply_dns_upstream(std::string_view v, Draft& d) {
  const auto bad = [&] {
    return Message{fmt::format("expected HOST:PORT, [IPv6]:PORT or HOST, got '{}'", v)};
  };
  if (v.empty()) {
    d.settings.dns_upstream = {};
    return {};
  }
  std::string_view host = v;
  std::string_view port_text;
  bool bracketed = false;
  if (v.front() == '[') {
    const std::size_t close = v.find(']');
    if (close == std::string_view::npos) return bad();
    host = v.substr(1, close - 1);
    bracketed = true;
    const std::string_view rest = v.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad();
      port_text = rest.substr(1);
      if (port_text.empty()) return bad();
    }
  } else if (const std::size_t colon = v.rfind(':'); colon != std::string_view::npos) {
    if (v.find(':') != colon) return bad();  // an IPv6 address needs its brackets
    host = v.substr(0, colon);
    port_text = v.substr(colon + 1);
    if (port_text.empty()) return bad();
  }
  std::uint64_t port = 53;
  if (!port_text.empty()) {
    const auto p = parse_decimal(port_text, 65535);
    if (!p || *p == 0) return bad();
    port = *p;
  }
  if (host.empty() || host.size() > Endpoint::kMaxNameLength) return bad();
  char text[Endpoint::kMaxNameLength + 1] = {};
  host.copy(text, host.size());
  std::uint8_t bytes[16];
  const auto p16 = static_cast<std::uint16_t>(port);
  if (!bracketed && inet_pton(AF_INET, text, bytes) == 1) {
    d.settings.dns_upstream = Endpoint::ipv4(std::span<const std::uint8_t, 4>(bytes, 4), p16);
  } else if (bracketed) {
    if (inet_pton(AF_INET6, text, bytes) != 1) return bad();
    d.settings.dns_upstream = Endpoint::ipv6(std::span<const std::uint8_t, 16>(bytes, 16), p16);
  } else {
    for (char c : host) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && c != '-' && c != '.' && c != '_') return bad();
    }
    d.settings.dns_upstream = *Endpoint::name(host, p16);
  }
  return {};
}

// Read by find_config_file before any option is loaded; listed so that it is
// documented with the rest.
Result<void, Message> apply_nothing(std::string_view, Draft&) {
  return {};
}

constexpr Option kOptions[] = {
    {"SOCKSIFY_PROXY", "proxy", "",
     "Proxy URL socks5://[user[:password]@]host[:port] (socks5h:// for remote DNS; also "
     "socks4://, socks4a://, http://). Several, separated by commas or spaces, form a pool or a "
     "chain (see SOCKSIFY_PROXY_MODE). 'NAME [MODE] URL...' defines a named proxy or pool for "
     "route rules instead; several definitions are separated by ';'.",
     // clear: the unnamed list only; named proxies are definitions routes refer to.
     apply_proxy, clear_list<&Settings::proxies>, false, true, proxy_line_is_definition},
    {"SOCKSIFY_PROXY_MODE", "proxy_mode", "failover",
     "failover: use the first proxy that answers; chain: tunnel through every proxy in order; "
     "round_robin / random: start each connection at the next / a random proxy and fail over "
     "from there (chosen per process).",
     apply_proxy_mode, nullptr, false},
    {"SOCKSIFY_ROUTE", "route", "",
     "Routing rules 'DESTINATION via PROXY-NAME|default|direct|block', separated by ';' (one per "
     "line in the file), first match wins. DESTINATION: CIDR, [IPv6]/N, .domain.suffix, host, "
     "each optionally with :PORT, :PORT alone, or *. block fails the connect with EACCES.",
     apply_route, clear_list<&Settings::routes>, false, true},
    {"SOCKSIFY_ISOLATE", "isolate", "off",
     "Give each process its own SOCKS5 user name and password (socksify-PID-RANDOM) for proxies "
     "without configured credentials, so Tor (IsolateSOCKSAuth) gives each its own circuit.",
     apply_flag<&Settings::isolate>, nullptr, false},
    {"SOCKSIFY_VERBOSE", "verbose", "off",
     "One line per connection, UDP association and name lookup: destination, rule, proxy chain, "
     "outcome and milliseconds (socksify -v).",
     apply_flag<&Settings::verbose>, nullptr, false},
    {"SOCKSIFY_LOG_FORMAT", "log_format", "text",
     "text, or json: the verbose lines as one JSON object per line.",
     apply_word<&Settings::log_format, kLogFormats>, nullptr, false},
    {"SOCKSIFY_PIPELINE", "pipeline", "auto",
     "Send the SOCKS5 greeting, auth and request in one write (saves one or two round trips). "
     "auto: fall back to one message per round trip, for the rest of the process, on a proxy "
     "that stalls on it; on: never fall back; off: never pipeline.",
     apply_word<&Settings::pipeline, kPipelines>, nullptr, false},
    {"SOCKSIFY_EARLY_DATA", "early_data", "off",
     "A non-blocking connect through a single SOCKS5 proxy is writable as soon as the pipelined "
     "handshake is sent, so the program's first bytes follow the request in the same round trip; "
     "a refused CONNECT then shows on the first read or write, not at connect.",
     apply_flag<&Settings::early_data>, nullptr, false},
    {"SOCKSIFY_USERNAME", "username", "", "User name for proxies whose URL has none (RFC 1929).",
     apply_credential<&Draft::username, kUserName>, nullptr, true},
    {"SOCKSIFY_PASSWORD", "password", "",
     "Password for proxies whose URL has none; keeps it out of the URL.",
     apply_credential<&Draft::password, kPassword>, nullptr, true},
    {"SOCKSIFY_DNS", "dns", "",
     "remote: proxy resolves names for every proxy (like socks5h://); local: resolve here. "
     "Unset: each URL's scheme decides.",
     apply_dns, nullptr, false},
    {"SOCKSIFY_DIRECT", "direct", "",
     "Destinations reached without the proxy, separated by commas or spaces: CIDR, [IPv6]/N, "
     ".domain.suffix, host, each optionally with :PORT, or :PORT alone.",
     apply_direct, clear_list<&Settings::direct_rules>, false},
    {"SOCKSIFY_DIRECT_LOOPBACK", "direct_loopback", "on",
     "Connect to loopback addresses directly instead of through the proxy.",
     apply_flag<&Settings::direct_loopback>, nullptr, false},
    {"SOCKSIFY_UDP", "udp", "on", "Relay UDP through the proxy (UDP ASSOCIATE).",
     apply_flag<&Settings::udp>, nullptr, false},
    {"SOCKSIFY_BIND", "bind", "off",
     "Accept incoming connections through the proxy (SOCKS BIND) on TCP sockets bound to port 0 "
     "of a non-loopback address, as FTP active mode uses; one connection per socket.",
     apply_flag<&Settings::bind>, nullptr, false},
    {"SOCKSIFY_CONNECT_TIMEOUT", "connect_timeout", "15000",
     "Milliseconds allowed for reaching the proxy and its handshake (1..3600000).",
     apply_connect_timeout, nullptr, false},
    {"SOCKSIFY_FAKE_IPV4", "fake_ipv4", "240.0.0.0/4",
     "IPv4 range for remote-DNS placeholder addresses (prefix /24 or shorter).",
     apply_fake_range<AF_INET, 24, &Settings::fake_v4>, nullptr, false},
    {"SOCKSIFY_FAKE_IPV6", "fake_ipv6", "100::/64",
     "IPv6 range for remote-DNS placeholder addresses (prefix /120 or shorter).",
     apply_fake_range<AF_INET6, 120, &Settings::fake_v6>, nullptr, false},
    {"SOCKSIFY_DNS_UPSTREAM", "dns_upstream", "",
     "With remote DNS: DNS server (HOST:PORT, [IPv6]:PORT) that questions the built-in stub "
     "cannot answer (MX, TXT, SRV...) are sent to, over TCP through the proxy. Unset: they get "
     "an empty answer; nothing is ever sent to the system's resolvers.",
     apply_dns_upstream, nullptr, false},
    {"SOCKSIFY_LOG_LEVEL", "log_level", "warn", "quiet, error, warn, info or debug.",
     apply_word<&Settings::log_level, kLogLevels>, nullptr, false},
    {"SOCKSIFY_LOG_FILE", "log_file", "", "Append log lines to this file instead of stderr.",
     apply_log_file, nullptr, false},
    {"SOCKSIFY_CONF_FILE", "", "",
     "Config file to read instead of ~/.config/socksify/socksify.conf or /etc/socksify.conf "
     "(an absolute path; socksify -f makes it one).",
     apply_nothing, nullptr, false},
};

constexpr auto kInfos = [] {
  std::array<OptionInfo, std::size(kOptions)> infos{};
  for (std::size_t i = 0; i < std::size(kOptions); ++i) {
    infos[i] = {kOptions[i].env, kOptions[i].default_value, kOptions[i].help, kOptions[i].key};
  }
  return infos;
}();

bool is_separator(char c) {
  return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::span<const Option> options() {
  return kOptions;
}

const Option* find_option_by_key(std::string_view key) {
  for (const Option& o : kOptions) {
    if (!o.key.empty() && o.key == key) return &o;
  }
  return nullptr;
}

void apply_value(const Option& opt, std::string_view raw, Draft& draft, std::string_view where,
                 std::vector<std::string>& errors) {
  const auto report = [&](const Result<void, Message>& r) {
    if (!r) errors.push_back(fmt::format("{}: {}", where, r.error().text));
  };
  draft.where = std::string(where);
  if (opt.clear != nullptr && opt.lines) {
    for (const std::string_view line : split_lines(raw)) {
      if (opt.whole_line == nullptr || opt.whole_line(line)) {
        report(opt.apply(line, draft));
        continue;
      }
      for (const std::string_view item : split_list(line)) report(opt.apply(item, draft));
    }
  } else if (opt.clear != nullptr) {
    for (const std::string_view item : split_list(raw)) {
      report(opt.apply(item, draft));
    }
  } else {
    // Credentials are taken byte for byte: a password may end in a space.
    report(opt.apply(opt.secret ? raw : trim(raw), draft));
  }
}

std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> items;
  for (auto w = ascii::next_word(value, is_separator); !w.empty();
       w = ascii::next_word(value, is_separator)) {
    items.push_back(w);
  }
  return items;
}

std::vector<std::string_view> split_lines(std::string_view value) {
  std::vector<std::string_view> items;
  std::size_t i = 0;
  while (i <= value.size()) {
    std::size_t j = i;
    while (j < value.size() && value[j] != ';' && value[j] != '\n') ++j;
    const std::string_view item = trim(value.substr(i, j - i));
    if (!item.empty()) items.push_back(item);
    i = j + 1;
  }
  return items;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && ascii::is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && ascii::is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace socksify::config_detail

namespace socksify {

std::span<const OptionInfo> option_table() {
  return config_detail::kInfos;
}

}  // namespace socksify
