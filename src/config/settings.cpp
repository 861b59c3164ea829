// load_settings: layers defaults, then the config file, then the environment,
// all through the one option table, and collects every problem at once so a
// user fixes their configuration in one round rather than one error per run.
#include "config/settings.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/ascii.hpp"
#include "config/config_file.hpp"
#include "config/options.hpp"

namespace socksify {
namespace {

using config_detail::apply_value;
using config_detail::Draft;
using config_detail::Option;

Draft defaults() {
  Draft draft;
  std::vector<std::string> errors;
  for (const Option& opt : config_detail::options()) {
    if (!opt.default_value.empty()) apply_value(opt, opt.default_value, draft, opt.env, errors);
  }
  // The defaults are ours: a unit test proves they parse, so errors is empty.
  return draft;
}

// An empty variable counts as unset: `SOCKSIFY_X= program` is how people
// unset things in one command, and an empty value is never a useful setting.
void apply_environment(const EnvLookup& env, Draft& draft, std::vector<std::string>& errors) {
  for (const Option& opt : config_detail::options()) {
    const char* value = env(opt.env.data());
    if (value == nullptr || *value == '\0') continue;
    if (opt.clear != nullptr) opt.clear(draft);
    apply_value(opt, value, draft, opt.env, errors);
  }
}

// Routes name their proxy; the name is looked up once every layer is read
// (a SOCKSIFY_ROUTE may name a proxy the file defines).
void resolve_routes(Settings& s, std::vector<std::string>& errors) {
  for (RouteRule& rule : s.routes) {
    if (rule.action != RouteRule::Action::Via) continue;
    if (ascii::iequals(rule.via, kDefaultProxyName)) {
      rule.group = 0;
      continue;
    }
    bool found = false;
    for (std::size_t k = 0; k < s.named_proxies.size(); ++k) {
      if (s.named_proxies[k].name == rule.via) {
        rule.group = k + 1;
        found = true;
        break;
      }
    }
    if (!found) {
      errors.push_back(
          fmt::format("{}: route '{}': no proxy named '{}' (define it with 'proxy {} "
                      "URL')",
                      rule.origin, rule.text, rule.via, rule.via));
    }
  }
}

bool has_catch_all(const std::vector<RouteRule>& routes) {
  for (const RouteRule& r : routes) {
    if (r.dest.kind == DirectRule::Kind::AnyHost && r.dest.port == 0) return true;
  }
  return false;
}

// Applies what needs every layer read first. `password_origin` names where the
// password came from, for the one message that can only be found here.
Result<Settings, std::vector<std::string>> finish(Draft draft, std::vector<std::string> errors,
                                                  std::string_view missing_proxy,
                                                  std::string_view password_origin) {
  Settings& s = draft.settings;
  resolve_routes(s, errors);
  // A proxy that was given but did not parse has its own error already. With
  // named proxies the unnamed list may be left out when a `route *` line
  // catches every destination.
  if (s.proxies.empty() && !draft.proxy_given) {
    if (s.named_proxies.empty()) {
      errors.emplace_back(missing_proxy);
    } else if (!has_catch_all(s.routes)) {
      errors.push_back(fmt::format(
          "{}; destinations no route rule matches need one: add a 'route * via NAME' line, or a "
          "'proxy URL' line",
          missing_proxy));
    }
  }

  bool password_used = false;
  std::vector<ProxySpec*> all;
  for (ProxySpec& proxy : s.proxies) all.push_back(&proxy);
  for (ProxyGroup& g : s.named_proxies) {
    for (ProxySpec& proxy : g.proxies) all.push_back(&proxy);
  }
  for (ProxySpec* p : all) {
    ProxySpec& proxy = *p;
    if (draft.remote_dns) proxy.remote_dns = *draft.remote_dns;
    // A URL's own credentials win; the separate settings fill the gaps, so a
    // password can stay out of a URL that shows up in `ps` and logs.
    if (proxy.user.empty() && draft.username) proxy.user = *draft.username;
    if (!proxy.user.empty() && proxy.password.empty() && draft.password) {
      proxy.password = *draft.password;
      password_used = true;
    }
  }
  // Most likely a misspelt user variable; without a user no password is sent
  // (RFC 1929 needs both), and the proxy would fail with a vaguer reason.
  if (draft.password && !password_used && !s.proxies.empty()) {
    errors.push_back(
        fmt::format("{}: a password is set but no proxy has a user name to go with it (set "
                    "SOCKSIFY_USERNAME, 'username', or user@ in the proxy URL)",
                    password_origin));
  }
  if (!errors.empty()) return errors;
  return std::move(draft.settings);
}

// A list key's lines in one file add up; the file as a whole still replaces
// whatever the defaults put in the list.
void apply_file(const ConfigFile& file, Draft& draft, std::vector<std::string>& errors) {
  std::vector<const Option*> cleared;
  for (const ConfigEntry& entry : file.entries) {
    const Option* opt = config_detail::find_option_by_key(entry.key);
    if (opt == nullptr) continue;  // scan_config only returns known keys
    if (opt->clear != nullptr && std::find(cleared.begin(), cleared.end(), opt) == cleared.end()) {
      opt->clear(draft);
      cleared.push_back(opt);
    }
    apply_value(*opt, entry.value, draft, fmt::format("{}:{}", file.name, entry.line), errors);
  }
}

bool is_set(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v != nullptr && *v != '\0';
}

}  // namespace

Result<Settings, std::vector<std::string>> load_settings(const EnvLookup& env) {
  Draft draft = defaults();
  std::vector<std::string> errors;
  apply_environment(env, draft, errors);
  return finish(std::move(draft), std::move(errors), "SOCKSIFY_PROXY is not set",
                "SOCKSIFY_PASSWORD");
}

Result<Settings, std::vector<std::string>> load_settings(const EnvLookup& env,
                                                         const std::optional<ConfigText>& file) {
  if (!file) return load_settings(env);
  Draft draft = defaults();
  config_detail::ConfigScan scan = config_detail::scan_config(file->text, file->name);
  std::vector<std::string> errors = std::move(scan.errors);
  const ConfigFile parsed{file->name, std::move(scan.entries)};
  apply_file(parsed, draft, errors);
  apply_environment(env, draft, errors);

  std::string password_origin = "SOCKSIFY_PASSWORD";
  if (!is_set(env, "SOCKSIFY_PASSWORD")) {
    for (const ConfigEntry& entry : parsed.entries) {
      if (entry.key == "password") password_origin = fmt::format("{}:{}", file->name, entry.line);
    }
  }
  return finish(std::move(draft), std::move(errors),
                fmt::format("SOCKSIFY_PROXY is not set and {} has no 'proxy' line", file->name),
                password_origin);
}

}  // namespace socksify
