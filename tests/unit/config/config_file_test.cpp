#include "config/config_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "env_map.hpp"

namespace socksify {
namespace {

using ::testing::ElementsAre;
using testing::EnvMap;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> file_errors(std::string_view text) {
  auto r = parse_config_file(text, "t.conf");
  EXPECT_FALSE(r.ok()) << "parsed unexpectedly:\n" << text;
  return r.ok() ? std::vector<std::string>{} : r.error();
}

ConfigFile file_ok(std::string_view text) {
  auto r = parse_config_file(text, "t.conf");
  if (!r) {
    for (const auto& e : r.error()) ADD_FAILURE() << e;
    return {};
  }
  return *r;
}

// --- parse_config_file ------------------------------------------------------

TEST(ConfigFileParse, ReadsKeyValueLinesSkippingCommentsAndBlanks) {
  const ConfigFile f = file_ok(
      "# socksify.conf\n"
      "\n"
      "proxy socks5h://p.test:9050\n"
      "   # indented comment\n"
      "\tudp\toff\r\n"
      "log_level   debug   \n"
      "connect_timeout 500");  // no final newline
  EXPECT_EQ(f.name, "t.conf");
  EXPECT_THAT(
      f.entries,
      ElementsAre(ConfigEntry{"proxy", "socks5h://p.test:9050", 3}, ConfigEntry{"udp", "off", 5},
                  ConfigEntry{"log_level", "debug", 6}, ConfigEntry{"connect_timeout", "500", 7}));
}

TEST(ConfigFileParse, TrailingCommentsNeedWhitespaceBeforeTheHash) {
  const ConfigFile f = file_ok(
      "proxy socks5://a.test # main proxy\n"
      "log_file /tmp/a#b\n"
      "udp on\t# why not\n");
  EXPECT_THAT(f.entries,
              ElementsAre(ConfigEntry{"proxy", "socks5://a.test", 1},
                          ConfigEntry{"log_file", "/tmp/a#b", 2}, ConfigEntry{"udp", "on", 3}));
}

TEST(ConfigFileParse, CredentialsKeepTheirHash) {
  const ConfigFile f = file_ok("username al #1\npassword pa ss #word  \n");
  EXPECT_THAT(f.entries, ElementsAre(ConfigEntry{"username", "al #1", 1},
                                     ConfigEntry{"password", "pa ss #word", 2}));
}

TEST(ConfigFileParse, ProxyAndDirectRepeat) {
  const ConfigFile f = file_ok(
      "proxy socks5://a.test\n"
      "proxy socks5://b.test, socks5://c.test\n"
      "direct 10.0.0.0/8 .corp.test\n"
      "direct :53\n");
  EXPECT_EQ(f.entries.size(), 4u);
}

TEST(ConfigFileParse, EveryKeyIsAccepted) {
  const ConfigFile f = file_ok(
      "proxy socks5://a.test\n"
      "proxy_mode chain\n"
      "pipeline off\n"
      "early_data on\n"
      "username u\n"
      "password p\n"
      "dns remote\n"
      "direct 10.0.0.0/8\n"
      "direct_loopback off\n"
      "udp off\n"
      "bind on\n"
      "connect_timeout 1000\n"
      "fake_ipv4 10.64.0.0/10\n"
      "fake_ipv6 fd00:1::/64\n"
      "dns_upstream 1.1.1.1:53\n"
      "log_level info\n"
      "log_file /var/log/socksify.log\n"
      "route .corp.test via direct\n"
      "isolate on\n"
      "verbose on\n"
      "log_format json\n");
  std::set<std::string> keys;
  for (const ConfigEntry& e : f.entries) keys.insert(e.key);
  for (const OptionInfo& o : option_table()) {
    if (!o.file_key.empty()) {
      EXPECT_TRUE(keys.count(std::string(o.file_key))) << o.file_key;
    }
  }
}

TEST(ConfigFileParse, ErrorsNameFileAndLine) {
  EXPECT_THAT(file_errors("udp on\nfrobnicate 1\n"),
              ElementsAre("t.conf:2: unknown key 'frobnicate'"));
  EXPECT_THAT(file_errors("\n\nproxy\n"), ElementsAre("t.conf:3: 'proxy' needs a value"));
  EXPECT_THAT(file_errors("udp # nothing\n"), ElementsAre("t.conf:1: 'udp' needs a value"));
  EXPECT_THAT(file_errors("udp maybe\n"),
              ElementsAre("t.conf:1: expected 1/true/yes/on or 0/false/no/off, got 'maybe'"));
  EXPECT_THAT(
      file_errors("proxy ftp://h\n"),
      ElementsAre("t.conf:1: unsupported scheme 'ftp' (use socks5://, socks5h:// or http://)"));
  EXPECT_THAT(file_errors("proxy_mode ring\n"),
              ElementsAre("t.conf:1: expected failover, chain, round_robin or random, got 'ring'"));
  EXPECT_THAT(file_errors("dns both\n"),
              ElementsAre("t.conf:1: expected remote or local, got 'both'"));
  EXPECT_THAT(file_errors("connect_timeout 0\n"),
              ElementsAre("t.conf:1: expected milliseconds between 1 and 3600000, got '0'"));
  EXPECT_THAT(file_errors("fake_ipv4 10.0.0.0/30\n"),
              ElementsAre(HasSubstr("t.conf:1: '10.0.0.0/30' is too small for a fake range")));
  EXPECT_THAT(file_errors("fake_ipv6 10.0.0.0/8\n"),
              ElementsAre("t.conf:1: '10.0.0.0/8' is not an IPv6 network"));
  EXPECT_THAT(file_errors("log_level chatty\n"),
              ElementsAre("t.conf:1: expected quiet, error, warn, info or debug, got 'chatty'"));
  EXPECT_THAT(file_errors("direct 10.1.0.0/8\n"),
              ElementsAre(HasSubstr("t.conf:1: '10.1.0.0/8': host bits set")));
  EXPECT_THAT(file_errors("Proxy socks5://h\n"), ElementsAre("t.conf:1: unknown key 'Proxy'"));
  EXPECT_THAT(file_errors("SOCKSIFY_CONF_FILE x\n"),
              ElementsAre("t.conf:1: unknown key 'SOCKSIFY_CONF_FILE'"));
}

TEST(ConfigFileParse, ScalarKeysMayAppearOnlyOnce) {
  EXPECT_THAT(file_errors("udp on\n# x\nudp off\n"),
              ElementsAre("t.conf:3: 'udp' already set on line 1"));
}

TEST(ConfigFileParse, ReportsEveryBadLine) {
  EXPECT_THAT(file_errors("a 1\nudp on\nb 2\nproxy socks5://h:0 socks5://ok\n"),
              ElementsAre("t.conf:1: unknown key 'a'", "t.conf:3: unknown key 'b'",
                          "t.conf:4: port out of range (1..65535)"));
}

TEST(ConfigFileParse, EmptyTextIsAnEmptyConfig) {
  EXPECT_THAT(file_ok("").entries, IsEmpty());
  EXPECT_THAT(file_ok("\n# only comments\n\n").entries, IsEmpty());
}

TEST(ConfigFileParse, NoErrorQuotesACredential) {
  const std::string secret = "Hunter2Secret";
  for (const std::string& text : {
           "proxy socks5://u:" + secret + "@h:0\n",
           "proxy socks5://u:" + secret + "\n",
           "password " + secret + std::string(300, 'x') + "\n",
           "username " + secret + std::string(300, 'x') + "\n",
           "password a\npassword " + secret + "\n",
       }) {
    for (const std::string& e : file_errors(text)) {
      EXPECT_EQ(e.find("Hunter2"), std::string::npos) << e;
    }
  }
}

TEST(ConfigMentionsPassword, FindsPasswordLinesAndUrls) {
  EXPECT_TRUE(config_mentions_password("password x\n"));
  EXPECT_TRUE(config_mentions_password("  password\tx"));
  EXPECT_TRUE(config_mentions_password("proxy socks5://a socks5://u:p@b\n"));
  EXPECT_TRUE(config_mentions_password("proxy socks5://u:p@b:0\n"));  // bad, still a secret
  EXPECT_FALSE(config_mentions_password("proxy socks5://u@b\nusername u\n"));
  EXPECT_FALSE(config_mentions_password("# password x\npasswords 1\n"));
  EXPECT_FALSE(config_mentions_password(""));
}

// --- load_settings(env, file): precedence -------------------------------------

Settings layered_ok(const EnvMap& env, std::string_view text) {
  auto r = load_settings(env.lookup(), ConfigText{"t.conf", std::string(text)});
  if (!r) {
    for (const auto& e : r.error()) ADD_FAILURE() << e;
    return {};
  }
  return *r;
}

std::vector<std::string> layered_errors(const EnvMap& env, std::string_view text) {
  auto r = load_settings(env.lookup(), ConfigText{"t.conf", std::string(text)});
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::vector<std::string>{} : r.error();
}

TEST(LayeredSettings, FileAloneConfiguresEverything) {
  const Settings s = layered_ok({},
                                "proxy socks5://a.test:1\n"
                                "proxy socks5://b.test:2\n"
                                "proxy_mode chain\n"
                                "pipeline off\n"
                                "early_data on\n"
                                "dns remote\n"
                                "direct 10.0.0.0/8 .corp.test\n"
                                "direct :53\n"
                                "direct_loopback off\n"
                                "udp off\n"
                                "bind on\n"
                                "connect_timeout 2500\n"
                                "fake_ipv4 10.64.0.0/10\n"
                                "fake_ipv6 fd00:1::/64\n"
                                "log_level info\n"
                                "log_file /tmp/s.log\n");
  ASSERT_EQ(s.proxies.size(), 2u);
  EXPECT_EQ(s.proxies[0].host, "a.test");
  EXPECT_EQ(s.proxies[1].host, "b.test");
  EXPECT_TRUE(s.proxies[0].remote_dns);
  EXPECT_TRUE(s.proxies[1].remote_dns);
  EXPECT_EQ(s.proxy_mode, ProxyMode::Chain);
  EXPECT_TRUE(s.early_data);
  EXPECT_EQ(s.direct_rules.size(), 3u);
  EXPECT_FALSE(s.direct_loopback);
  EXPECT_FALSE(s.udp);
  EXPECT_EQ(s.connect_timeout.count(), 2500);
  EXPECT_EQ(s.fake_v4, *parse_cidr("10.64.0.0/10"));
  EXPECT_EQ(s.fake_v6, *parse_cidr("fd00:1::/64"));
  EXPECT_EQ(s.log_level, LogLevel::Info);
  EXPECT_EQ(s.log_file, "/tmp/s.log");
}

TEST(LayeredSettings, DefaultsFillWhatTheFileLeavesOut) {
  const Settings s = layered_ok({}, "proxy socks5://a.test\n");
  EXPECT_EQ(s.log_level, LogLevel::Warn);
  EXPECT_TRUE(s.udp);
  EXPECT_EQ(s.fake_v4, *parse_cidr("240.0.0.0/4"));
  EXPECT_TRUE(s.direct_rules.empty());
}

TEST(LayeredSettings, EnvironmentBeatsFile) {
  const Settings s = layered_ok(
      {{"SOCKSIFY_UDP", "on"}, {"SOCKSIFY_LOG_LEVEL", "error"}, {"SOCKSIFY_CONNECT_TIMEOUT", "7"}},
      "proxy socks5://a.test\nudp off\nlog_level debug\nconnect_timeout 9\nlog_file /tmp/x\n");
  EXPECT_TRUE(s.udp);
  EXPECT_EQ(s.log_level, LogLevel::Error);
  EXPECT_EQ(s.connect_timeout.count(), 7);
  EXPECT_EQ(s.log_file, "/tmp/x");  // not in the environment: the file's value stands
}

TEST(LayeredSettings, EnvironmentListsReplaceTheFilesLists) {
  const Settings s =
      layered_ok({{"SOCKSIFY_PROXY", "socks5://env.test"}, {"SOCKSIFY_DIRECT", ":22"}},
                 "proxy socks5://a.test\nproxy socks5://b.test\ndirect 10.0.0.0/8\n");
  ASSERT_EQ(s.proxies.size(), 1u);
  EXPECT_EQ(s.proxies[0].host, "env.test");
  ASSERT_EQ(s.direct_rules.size(), 1u);
  EXPECT_EQ(s.direct_rules[0].port, 22);
}

TEST(LayeredSettings, EmptyVariableDoesNotOverrideTheFile) {
  const Settings s = layered_ok({{"SOCKSIFY_PROXY", ""}, {"SOCKSIFY_UDP", ""}},
                                "proxy socks5://a.test\nudp off\n");
  EXPECT_EQ(s.proxies[0].host, "a.test");
  EXPECT_FALSE(s.udp);
}

TEST(LayeredSettings, CredentialsLayerToo) {
  // File gives the user and password; the environment swaps the password.
  const Settings s = layered_ok({{"SOCKSIFY_PASSWORD", "from-env"}},
                                "proxy socks5://a.test\nusername alice\npassword from-file\n");
  EXPECT_EQ(s.proxies[0].user, "alice");
  EXPECT_EQ(s.proxies[0].password, "from-env");
  const Settings f = layered_ok({}, "proxy socks5://a.test\nusername alice\npassword pw\n");
  EXPECT_EQ(f.proxies[0].password, "pw");
  // The file's password reaches a proxy the environment names.
  const Settings e = layered_ok({{"SOCKSIFY_PROXY", "socks5://bob@env.test"}}, "password pw\n");
  EXPECT_EQ(e.proxies[0].user, "bob");
  EXPECT_EQ(e.proxies[0].password, "pw");
}

TEST(LayeredSettings, DnsLocalOverridesSocks5h) {
  const Settings s =
      layered_ok({{"SOCKSIFY_DNS", "local"}}, "proxy socks5h://a.test\ndns remote\n");
  EXPECT_FALSE(s.proxies[0].remote_dns);
  EXPECT_FALSE(s.remote_dns());
}

TEST(LayeredSettings, MissingProxyNamesBothPlaces) {
  EXPECT_THAT(layered_errors({}, "udp off\n"),
              ElementsAre("SOCKSIFY_PROXY is not set and t.conf has no 'proxy' line"));
}

TEST(LayeredSettings, ErrorsFromFileAndEnvironmentTogether) {
  EXPECT_THAT(
      layered_errors({{"SOCKSIFY_UDP", "perhaps"}}, "proxy socks5://a.test\nlog_level loud\n"),
      ElementsAre("t.conf:2: expected quiet, error, warn, info or debug, got 'loud'",
                  "SOCKSIFY_UDP: expected 1/true/yes/on or 0/false/no/off, got 'perhaps'"));
}

TEST(LayeredSettings, ABadLineDoesNotCascade) {
  // The good lines still apply, so a typo elsewhere is not also "no proxy".
  EXPECT_THAT(layered_errors({}, "proxy socks5://a.test\nudp sometimes\n"),
              ElementsAre("t.conf:2: expected 1/true/yes/on or 0/false/no/off, got 'sometimes'"));
}

TEST(LayeredSettings, UnusedPasswordNamesItsLine) {
  EXPECT_THAT(layered_errors({}, "proxy socks5://a.test\n\npassword Hunter2\n"),
              ElementsAre(HasSubstr("t.conf:3: a password is set but no proxy has a user name")));
}

TEST(LayeredSettings, NoFileMeansEnvironmentOnly) {
  auto r = load_settings(EnvMap{}.lookup(), std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), ElementsAre("SOCKSIFY_PROXY is not set"));
}

// --- find_config_file -------------------------------------------------------

struct FakeFs {
  std::set<std::string> files;
  PathExists exists() const {
    return [this](const std::string& p) { return files.count(p) > 0; };
  }
};

std::optional<std::string> found(std::string_view flag, const EnvMap& env, const FakeFs& fs) {
  auto r = find_config_file(flag, env.lookup(), fs.exists());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text);
  return r.ok() ? *r : std::nullopt;
}

TEST(FindConfigFile, SearchOrder) {
  const EnvMap env{
      {"SOCKSIFY_CONF_FILE", "/env.conf"}, {"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/home/u"}};
  FakeFs fs{{"/flag.conf", "/env.conf", "/xdg/socksify/socksify.conf",
             "/home/u/.config/socksify/socksify.conf", "/etc/socksify.conf"}};
  EXPECT_EQ(found("/flag.conf", env, fs), "/flag.conf");
  EXPECT_EQ(found("", env, fs), "/env.conf");
  EXPECT_EQ(found("", {{"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/home/u"}}, fs),
            "/xdg/socksify/socksify.conf");
  EXPECT_EQ(found("", {{"HOME", "/home/u"}}, fs), "/home/u/.config/socksify/socksify.conf");
  fs.files.erase("/xdg/socksify/socksify.conf");
  // XDG_CONFIG_HOME replaces ~/.config; it does not add to it.
  EXPECT_EQ(found("", {{"XDG_CONFIG_HOME", "/xdg"}, {"HOME", "/home/u"}}, fs),
            "/etc/socksify.conf");
  EXPECT_EQ(found("", {}, fs), "/etc/socksify.conf");
  fs.files.erase("/etc/socksify.conf");
  EXPECT_EQ(found("", {}, fs), std::nullopt);
}

TEST(FindConfigFile, IgnoresEmptyAndRelativeDirectories) {
  const FakeFs fs{{"/home/u/.config/socksify/socksify.conf", "rel/socksify/socksify.conf",
                   "/socksify/socksify.conf"}};
  EXPECT_EQ(found("", {{"XDG_CONFIG_HOME", "rel"}, {"HOME", "/home/u"}}, fs),
            "/home/u/.config/socksify/socksify.conf");
  EXPECT_EQ(found("", {{"XDG_CONFIG_HOME", ""}, {"HOME", "/home/u"}}, fs),
            "/home/u/.config/socksify/socksify.conf");
  EXPECT_EQ(found("", {{"HOME", ""}}, fs), std::nullopt);
  EXPECT_EQ(found("", {{"SOCKSIFY_CONF_FILE", ""}, {"HOME", "/home/u"}}, fs),
            "/home/u/.config/socksify/socksify.conf");
}

// Issue 14 item 5: each process looks the file up in its own directory, so a
// relative name reads a different (possibly planted) file in each.
TEST(FindConfigFile, ARelativeConfFileIsAnErrorAndARelativeHomeIsIgnored) {
  const FakeFs fs{{"socksify.conf", "/etc/socksify.conf", "home/.config/socksify/socksify.conf"}};
  auto r =
      find_config_file("", EnvMap{{"SOCKSIFY_CONF_FILE", "socksify.conf"}}.lookup(), fs.exists());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().text, HasSubstr("SOCKSIFY_CONF_FILE: 'socksify.conf' is relative"));
  auto dot =
      find_config_file("", EnvMap{{"SOCKSIFY_CONF_FILE", "./socksify.conf"}}.lookup(), fs.exists());
  EXPECT_FALSE(dot.ok());
  EXPECT_EQ(found("", {{"HOME", "home"}}, fs), "/etc/socksify.conf");
}

TEST(FindConfigFile, ExplicitRequestsMustExist) {
  const FakeFs fs{{"/etc/socksify.conf"}};
  auto flag = find_config_file("/nope.conf", EnvMap{}.lookup(), fs.exists());
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.error().text, "config file '/nope.conf' not found");
  auto env =
      find_config_file("", EnvMap{{"SOCKSIFY_CONF_FILE", "/nope.conf"}}.lookup(), fs.exists());
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.error().text, "SOCKSIFY_CONF_FILE: '/nope.conf' not found");
}

// --- read_config_file (the one test here that touches the file system) --------

class TempFile {
 public:
  TempFile(std::string_view text, mode_t mode) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/socksify-conf-XXXXXX";
    const int fd = mkstemp(path_.data());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    fchmod(fd, mode);
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ProxyListMentionsPassword, FindsAPasswordInAnyItem) {
  EXPECT_TRUE(proxy_list_mentions_password("socks5://u:pw@h"));
  EXPECT_TRUE(proxy_list_mentions_password("socks5://h, socks5h://u:pw@g:1"));
  EXPECT_TRUE(proxy_list_mentions_password("nonsense://u:pw@h"));
  EXPECT_FALSE(proxy_list_mentions_password("socks5://u@h socks5://g"));
  EXPECT_FALSE(proxy_list_mentions_password(""));
}

TEST(ReadConfigFile, ReadsTextAndNamesItByPath) {
  const TempFile f("proxy socks5://h\n", 0600);
  auto r = read_config_file(f.path());
  ASSERT_TRUE(r.ok()) << r.error().text;
  EXPECT_EQ(r->file.name, f.path());
  EXPECT_EQ(r->file.text, "proxy socks5://h\n");
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST(ReadConfigFile, WarnsWhenOthersCanReadAPassword) {
  const TempFile secret("proxy socks5://u:pw@h\n", 0644);
  auto r = read_config_file(secret.path());
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->warnings,
              ElementsAre(secret.path() +
                          ": contains a password but is readable by other users (mode 0644); "
                          "chmod 600 it"));
  const TempFile group("password pw\n", 0640);
  EXPECT_THAT(read_config_file(group.path())->warnings, ElementsAre(HasSubstr("mode 0640")));
  const TempFile harmless("proxy socks5://h\n", 0644);
  EXPECT_THAT(read_config_file(harmless.path())->warnings, IsEmpty());
}

TEST(ReadConfigFile, ReportsTheOwnershipOfTheFileItRead) {
  const TempFile f("proxy socks5://h\n", 0666);
  auto r = read_config_file(f.path());
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->warnings, IsEmpty());  // who may write: config_safety_warnings
  EXPECT_EQ(r->ownership.mode, 0666u);
  EXPECT_EQ(r->ownership.uid, static_cast<unsigned>(geteuid()));
}

TEST(ReadConfigFile, ReportsUnreadableAndOddFiles) {
  auto missing = read_config_file("/nonexistent/socksify.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().text, "/nonexistent/socksify.conf: No such file or directory");
  auto dir = read_config_file("/");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().text, "/: not a regular file");
  const TempFile big(std::string((1 << 20) + 1, '#'), 0600);
  auto r = read_config_file(big.path());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().text, HasSubstr("larger than 1 MiB"));
}

}  // namespace
}  // namespace socksify
