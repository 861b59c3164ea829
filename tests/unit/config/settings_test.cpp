#include "config/settings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <set>
#include <string>

#include "env_map.hpp"

namespace socksify {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using testing::EnvMap;
using ::testing::HasSubstr;
using ::testing::StartsWith;

Settings load_ok(const EnvMap& env) {
  auto r = load_settings(env.lookup());
  if (!r) {
    for (const auto& e : r.error()) ADD_FAILURE() << e;
    return {};
  }
  return *r;
}

std::vector<std::string> load_errors(const EnvMap& env) {
  auto r = load_settings(env.lookup());
  EXPECT_FALSE(r.ok()) << "loaded unexpectedly";
  return r.ok() ? std::vector<std::string>{} : r.error();
}

TEST(LoadSettings, MissingProxyIsTheOnlyError) {
  EXPECT_THAT(load_errors({}), ElementsAre("SOCKSIFY_PROXY is not set"));
  EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", ""}}), ElementsAre("SOCKSIFY_PROXY is not set"));
  EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", " , "}}), ElementsAre("SOCKSIFY_PROXY is not set"));
}

TEST(LoadSettings, BindIsABoolean) {
  EXPECT_TRUE(load_ok({{"SOCKSIFY_PROXY", "socks5://p.test"}, {"SOCKSIFY_BIND", "on"}}).bind);
  EXPECT_FALSE(load_ok({{"SOCKSIFY_PROXY", "socks5://p.test"}, {"SOCKSIFY_BIND", "no"}}).bind);
  EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", "socks5://p.test"}, {"SOCKSIFY_BIND", "listen"}}),
              ElementsAre(HasSubstr("SOCKSIFY_BIND: expected 1/true/yes/on")));
}

TEST(LoadSettings, ABadProxyUrlIsReportedOnceNotAlsoAsMissing) {
  EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", "bad"}}),
              ElementsAre(AllOf(StartsWith("SOCKSIFY_PROXY: "), HasSubstr("missing scheme"))));
}

TEST(LoadSettings, DefaultsWhenOnlyProxyIsSet) {
  const Settings s = load_ok({{"SOCKSIFY_PROXY", "socks5://127.0.0.1:1080"}});
  ASSERT_EQ(s.proxies.size(), 1u);
  EXPECT_EQ(s.proxies[0].host, "127.0.0.1");
  EXPECT_EQ(s.proxy_mode, ProxyMode::Failover);
  EXPECT_EQ(s.log_level, LogLevel::Warn);
  EXPECT_EQ(s.log_file, "");
  EXPECT_TRUE(s.direct_loopback);
  EXPECT_EQ(s.connect_timeout, std::chrono::milliseconds(15000));
  EXPECT_TRUE(s.udp);
  EXPECT_FALSE(s.bind);  // a listener at the proxy takes one connection: only when asked
  EXPECT_EQ(s.fake_v4, *parse_cidr("240.0.0.0/4"));
  EXPECT_EQ(s.fake_v6, *parse_cidr("100::/64"));
  EXPECT_FALSE(s.remote_dns());
}

TEST(LoadSettings, TableDefaultsAgreeWithSettingsInitialisers) {
  // Code that builds a Settings by hand must see the same defaults as a load.
  const Settings loaded = load_ok({{"SOCKSIFY_PROXY", "socks5://h"}});
  const Settings plain;
  EXPECT_EQ(loaded.log_level, plain.log_level);
  EXPECT_EQ(loaded.direct_loopback, plain.direct_loopback);
  EXPECT_EQ(loaded.connect_timeout, plain.connect_timeout);
  EXPECT_EQ(loaded.udp, plain.udp);
  EXPECT_EQ(loaded.proxy_mode, plain.proxy_mode);
}

TEST(LoadSettings, ReadsEveryOption) {
  const Settings s = load_ok({
      {"SOCKSIFY_PROXY", "socks5h://p.test:9050"},
      {"SOCKSIFY_PROXY_MODE", "chain"},
      {"SOCKSIFY_LOG_LEVEL", "debug"},
      {"SOCKSIFY_LOG_FILE", "/tmp/socksify.log"},
      {"SOCKSIFY_DIRECT_LOOPBACK", "off"},
      {"SOCKSIFY_CONNECT_TIMEOUT", "250"},
      {"SOCKSIFY_UDP", "no"},
      {"SOCKSIFY_FAKE_IPV4", "10.99.0.0/16"},
      {"SOCKSIFY_FAKE_IPV6", "fd00:5::/96"},
  });
  ASSERT_EQ(s.proxies.size(), 1u);
  EXPECT_TRUE(s.remote_dns());
  EXPECT_EQ(s.proxy_mode, ProxyMode::Chain);
  EXPECT_EQ(s.log_level, LogLevel::Debug);
  EXPECT_EQ(s.log_file, "/tmp/socksify.log");
  EXPECT_FALSE(s.direct_loopback);
  EXPECT_EQ(s.connect_timeout, std::chrono::milliseconds(250));
  EXPECT_FALSE(s.udp);
  EXPECT_EQ(s.fake_v4, *parse_cidr("10.99.0.0/16"));
  EXPECT_EQ(s.fake_v6, *parse_cidr("fd00:5::/96"));
}

TEST(LoadSettings, SeveralProxiesKeepTheirOrder) {
  const Settings s =
      load_ok({{"SOCKSIFY_PROXY",
                " socks5://a.test:1,socks5h://[::1]:2  socks5://c.test\t,\nsocks5://d.test, "}});
  ASSERT_EQ(s.proxies.size(), 4u);
  EXPECT_EQ(s.proxies[0].host, "a.test");
  EXPECT_EQ(s.proxies[1].host, "::1");
  EXPECT_TRUE(s.proxies[1].remote_dns);
  EXPECT_EQ(s.proxies[2].host, "c.test");
  EXPECT_EQ(s.proxies[3].host, "d.test");
}

TEST(LoadSettings, EveryBadProxyIsReported) {
  const auto errors = load_errors({{"SOCKSIFY_PROXY", "ftp://a socks5://ok socks5://b:0"}});
  EXPECT_THAT(
      errors,
      ElementsAre("SOCKSIFY_PROXY: unsupported scheme 'ftp' (use socks5://, socks5h:// or http://)",
                  "SOCKSIFY_PROXY: port out of range (1..65535)"));
}

TEST(LoadSettings, BooleansAcceptCommonSpellings) {
  for (const char* yes : {"1", "true", "yes", "on", "TRUE", "Yes", "ON", " on "}) {
    EXPECT_TRUE(load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_UDP", yes}}).udp) << yes;
  }
  for (const char* no : {"0", "false", "no", "off", "FALSE", "No", "Off"}) {
    EXPECT_FALSE(load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_UDP", no}}).udp) << no;
    EXPECT_FALSE(load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_DIRECT_LOOPBACK", no}})
                     .direct_loopback)
        << no;
  }
}

TEST(LoadSettings, LogLevelsAreCaseInsensitive) {
  const std::pair<const char*, LogLevel> cases[] = {
      {"quiet", LogLevel::Quiet}, {"ERROR", LogLevel::Error}, {"Warn", LogLevel::Warn},
      {"info", LogLevel::Info},   {"debug", LogLevel::Debug},
  };
  for (const auto& [text, level] : cases) {
    EXPECT_EQ(load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_LOG_LEVEL", text}}).log_level,
              level)
        << text;
  }
}

TEST(LoadSettings, TimeoutBounds) {
  const auto timeout = [](const char* v) {
    return load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_CONNECT_TIMEOUT", v}})
        .connect_timeout.count();
  };
  EXPECT_EQ(timeout("1"), 1);
  EXPECT_EQ(timeout("3600000"), 3600000);
  for (const char* bad : {"0", "3600001", "-5", "1.5", "10s", "99999999999999999999", "x"}) {
    EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_CONNECT_TIMEOUT", bad}}),
                ElementsAre(std::string("SOCKSIFY_CONNECT_TIMEOUT: expected milliseconds between 1 "
                                        "and 3600000, got '") +
                            bad + "'"));
  }
}

TEST(LoadSettings, DnsUpstreamIsAnAddressOrNameWithPort) {
  const auto upstream = [](const char* v) {
    return fmt::format(
        "{}",
        load_ok({{"SOCKSIFY_PROXY", "socks5h://h"}, {"SOCKSIFY_DNS_UPSTREAM", v}}).dns_upstream);
  };
  EXPECT_EQ(load_ok({{"SOCKSIFY_PROXY", "socks5h://h"}}).dns_upstream.kind(), Endpoint::Kind::None);
  EXPECT_EQ(upstream("1.1.1.1:53"), "1.1.1.1:53");
  EXPECT_EQ(upstream("10.200.1.2:5353"), "10.200.1.2:5353");
  EXPECT_EQ(upstream("9.9.9.9"), "9.9.9.9:53");
  EXPECT_EQ(upstream("[2606:4700::1111]:853"), "[2606:4700::1111]:853");
  EXPECT_EQ(upstream("[::1]"), "[::1]:53");
  EXPECT_EQ(upstream("dns.example.test:53"), "dns.example.test:53");
  for (const char* bad : {"1.1.1.1:", "1.1.1.1:0", "1.1.1.1:65536", "::1:53", "[::1", "[x]:53",
                          "[::1]x", "a b:53", ":53", "h:5x"}) {
    EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", "socks5h://h"}, {"SOCKSIFY_DNS_UPSTREAM", bad}}),
                ElementsAre(std::string("SOCKSIFY_DNS_UPSTREAM: expected HOST:PORT, [IPv6]:PORT "
                                        "or HOST, got '") +
                            bad + "'"))
        << bad;
  }
}

TEST(LoadSettings, FakeRangesMustFitTheirFamilyAndSize) {
  const auto err = [](const char* name, const char* value) {
    return load_errors({{"SOCKSIFY_PROXY", "socks5h://h"}, {name, value}});
  };
  EXPECT_THAT(err("SOCKSIFY_FAKE_IPV4", "fd00::/8"),
              ElementsAre("SOCKSIFY_FAKE_IPV4: 'fd00::/8' is not an IPv4 network"));
  EXPECT_THAT(err("SOCKSIFY_FAKE_IPV4", "10.0.0.0/25"),
              ElementsAre("SOCKSIFY_FAKE_IPV4: '10.0.0.0/25' is too small for a fake range "
                          "(prefix must be /24 or shorter)"));
  EXPECT_THAT(err("SOCKSIFY_FAKE_IPV4", "10.0.0.1/8"),
              ElementsAre(HasSubstr("SOCKSIFY_FAKE_IPV4: host bits set")));
  EXPECT_THAT(err("SOCKSIFY_FAKE_IPV6", "10.0.0.0/8"),
              ElementsAre("SOCKSIFY_FAKE_IPV6: '10.0.0.0/8' is not an IPv6 network"));
  EXPECT_THAT(err("SOCKSIFY_FAKE_IPV6", "fd00::/121"),
              ElementsAre("SOCKSIFY_FAKE_IPV6: 'fd00::/121' is too small for a fake range "
                          "(prefix must be /120 or shorter)"));
  EXPECT_TRUE(load_settings(EnvMap{{"SOCKSIFY_PROXY", "socks5h://h"},
                                   {"SOCKSIFY_FAKE_IPV4", "10.1.2.0/24"},
                                   {"SOCKSIFY_FAKE_IPV6", "fd00::100/120"}}
                                .lookup())
                  .ok());
}

TEST(LoadSettings, CollectsEveryProblemAtOnce) {
  const auto errors = load_errors({
      {"SOCKSIFY_LOG_LEVEL", "loud"},
      {"SOCKSIFY_UDP", "maybe"},
      {"SOCKSIFY_DIRECT_LOOPBACK", "2"},
      {"SOCKSIFY_PROXY_MODE", "roundrobin"},
      {"SOCKSIFY_DNS", "both"},
  });
  EXPECT_THAT(
      errors,
      ElementsAre("SOCKSIFY_PROXY_MODE: expected failover, chain, round_robin or random, got "
                  "'roundrobin'",
                  "SOCKSIFY_DNS: expected remote or local, got 'both'",
                  "SOCKSIFY_DIRECT_LOOPBACK: expected 1/true/yes/on or 0/false/no/off, got '2'",
                  "SOCKSIFY_UDP: expected 1/true/yes/on or 0/false/no/off, got 'maybe'",
                  "SOCKSIFY_LOG_LEVEL: expected quiet, error, warn, info or debug, got 'loud'",
                  "SOCKSIFY_PROXY is not set"));
}

TEST(LoadSettings, UsernameAndPasswordFillProxiesWithoutCredentials) {
  const Settings s = load_ok({
      {"SOCKSIFY_PROXY", "socks5://a.test socks5://own:pw@b.test socks5://carol@c.test"},
      {"SOCKSIFY_USERNAME", "alice"},
      {"SOCKSIFY_PASSWORD", "env-pw"},
  });
  ASSERT_EQ(s.proxies.size(), 3u);
  EXPECT_EQ(s.proxies[0].user, "alice");
  EXPECT_EQ(s.proxies[0].password, "env-pw");
  // A URL's own credentials win.
  EXPECT_EQ(s.proxies[1].user, "own");
  EXPECT_EQ(s.proxies[1].password, "pw");
  // A user named in the URL takes the password from the environment.
  EXPECT_EQ(s.proxies[2].user, "carol");
  EXPECT_EQ(s.proxies[2].password, "env-pw");
}

TEST(LoadSettings, PasswordIsTakenVerbatim) {
  const Settings s =
      load_ok({{"SOCKSIFY_PROXY", "socks5://u@h"}, {"SOCKSIFY_PASSWORD", " a%20b "}});
  EXPECT_EQ(s.proxies[0].password, " a%20b ");
}

TEST(LoadSettings, UsernameAloneMeansEmptyPassword) {
  const Settings s = load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_USERNAME", "bob"}});
  EXPECT_EQ(s.proxies[0].user, "bob");
  EXPECT_EQ(s.proxies[0].password, "");
}

TEST(LoadSettings, PasswordWithoutAnyUserIsAnError) {
  EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_PASSWORD", "Hunter2"}}),
              ElementsAre(HasSubstr("SOCKSIFY_PASSWORD: a password is set but no proxy has a "
                                    "user name")));
}

TEST(LoadSettings, CredentialsLongerThan255BytesAreRefused) {
  EXPECT_THAT(
      load_errors({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_USERNAME", std::string(256, 'u')}}),
      ElementsAre("SOCKSIFY_USERNAME: user name longer than 255 bytes (RFC 1929)"));
  EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", "socks5://u@h"},
                           {"SOCKSIFY_PASSWORD", std::string(256, 'p')}}),
              ElementsAre("SOCKSIFY_PASSWORD: password longer than 255 bytes (RFC 1929)"));
  EXPECT_TRUE(load_settings(EnvMap{{"SOCKSIFY_PROXY", "socks5://h"},
                                   {"SOCKSIFY_USERNAME", std::string(255, 'u')},
                                   {"SOCKSIFY_PASSWORD", std::string(255, 'p')}}
                                .lookup())
                  .ok());
}

TEST(LoadSettings, DnsOptionOverridesEachUrlsScheme) {
  const Settings remote =
      load_ok({{"SOCKSIFY_PROXY", "socks5://a socks5h://b"}, {"SOCKSIFY_DNS", "remote"}});
  EXPECT_TRUE(remote.proxies[0].remote_dns);
  EXPECT_TRUE(remote.proxies[1].remote_dns);
  const Settings local =
      load_ok({{"SOCKSIFY_PROXY", "socks5h://a socks5://b"}, {"SOCKSIFY_DNS", "LOCAL"}});
  EXPECT_FALSE(local.proxies[0].remote_dns);
  EXPECT_FALSE(local.proxies[1].remote_dns);
}

TEST(LoadSettings, NoMessageEverContainsAPassword) {
  const std::string secret = "Hunter2Secret";
  const EnvMap cases[] = {
      {{"SOCKSIFY_PROXY", "ftp://u:" + secret + "@h"}},
      {{"SOCKSIFY_PROXY", "socks5://u:" + secret + "@h:0"}},
      {{"SOCKSIFY_PROXY", "socks5://u:" + secret}},
      {{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_PASSWORD", secret}},
      {{"SOCKSIFY_PROXY", "socks5://u@h"}, {"SOCKSIFY_PASSWORD", secret + std::string(300, 'x')}},
      {{"SOCKSIFY_USERNAME", "u"}, {"SOCKSIFY_PASSWORD", secret}},
  };
  for (const EnvMap& env : cases) {
    for (const std::string& e : load_errors(env)) {
      EXPECT_EQ(e.find("Hunter2"), std::string::npos) << e;
    }
  }
}

TEST(LoadSettings, ConsultsOnlyVariablesInTheTable) {
  std::set<std::string> asked;
  const auto r = load_settings([&](const char* name) -> const char* {
    asked.insert(name);
    return std::string_view(name) == "SOCKSIFY_PROXY" ? "socks5://h" : nullptr;
  });
  ASSERT_TRUE(r.ok());
  std::set<std::string> table;
  for (const OptionInfo& o : option_table()) table.insert(std::string(o.name));
  for (const std::string& name : asked) EXPECT_TRUE(table.count(name)) << name;
}

TEST(OptionTable, DocumentsEveryOptionOnce) {
  std::set<std::string_view> names;
  std::set<std::string_view> keys;
  for (const OptionInfo& o : option_table()) {
    EXPECT_TRUE(o.name.starts_with("SOCKSIFY_")) << o.name;
    EXPECT_FALSE(o.help.empty()) << o.name;
    EXPECT_TRUE(names.insert(o.name).second) << "duplicate " << o.name;
    if (!o.file_key.empty()) {
      EXPECT_TRUE(keys.insert(o.file_key).second) << o.file_key;
    }
    // The env lookup receives name.data(): it must be a C string.
    EXPECT_EQ(o.name.data()[o.name.size()], '\0') << o.name;
  }
  for (const char* expected :
       {"SOCKSIFY_PROXY", "SOCKSIFY_USERNAME", "SOCKSIFY_PASSWORD", "SOCKSIFY_LOG_LEVEL",
        "SOCKSIFY_LOG_FILE", "SOCKSIFY_DIRECT_LOOPBACK", "SOCKSIFY_CONNECT_TIMEOUT", "SOCKSIFY_UDP",
        "SOCKSIFY_FAKE_IPV4", "SOCKSIFY_FAKE_IPV6"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
}

TEST(OptionTable, DefaultsLoadWithoutErrors) {
  // Every default goes through its option's parser at load; a typo in the
  // table would otherwise surface only as a strange default.
  EnvMap env{{"SOCKSIFY_PROXY", "socks5://h"}};
  for (const OptionInfo& o : option_table()) {
    if (o.name == "SOCKSIFY_PROXY" || o.default_value.empty()) continue;
    env.set(std::string(o.name), std::string(o.default_value));
  }
  const Settings explicit_defaults = load_ok(env);
  const Settings implicit_defaults = load_ok({{"SOCKSIFY_PROXY", "socks5://h"}});
  EXPECT_EQ(explicit_defaults.fake_v4, implicit_defaults.fake_v4);
  EXPECT_EQ(explicit_defaults.connect_timeout, implicit_defaults.connect_timeout);
  EXPECT_EQ(explicit_defaults.log_level, implicit_defaults.log_level);
}

}  // namespace
}  // namespace socksify

namespace socksify {
namespace {

TEST(LoadSettings, PipelineIsAutoUnlessToldOnOrOff) {
  EXPECT_EQ(load_ok({{"SOCKSIFY_PROXY", "socks5://h"}}).pipeline, Pipeline::Auto);
  EXPECT_EQ(load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_PIPELINE", "ON"}}).pipeline,
            Pipeline::On);
  EXPECT_EQ(load_ok({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_PIPELINE", "off"}}).pipeline,
            Pipeline::Off);
  EXPECT_THAT(load_errors({{"SOCKSIFY_PROXY", "socks5://h"}, {"SOCKSIFY_PIPELINE", "yes"}}),
              ElementsAre("SOCKSIFY_PIPELINE: expected auto, on or off, got 'yes'"));
}

}  // namespace
}  // namespace socksify
