// Route rules and named proxies: every destination form, first match wins,
// .onion, and a clear error naming the line for every bad one.
#include "config/route_rules.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/rules.hpp"
#include "config/settings.hpp"
#include "env_map.hpp"

namespace socksify {
namespace {

using ::testing::ElementsAre;
using testing::EnvMap;
using ::testing::HasSubstr;

Endpoint v4(const char* text, std::uint16_t port) {
  std::uint8_t a[4];
  EXPECT_EQ(inet_pton(AF_INET, text, a), 1) << text;
  return Endpoint::ipv4(std::span<const std::uint8_t, 4>(a, 4), port);
}
Endpoint v6(const char* text, std::uint16_t port) {
  std::uint8_t a[16];
  EXPECT_EQ(inet_pton(AF_INET6, text, a), 1) << text;
  return Endpoint::ipv6(std::span<const std::uint8_t, 16>(a, 16), port);
}
Endpoint name(const char* text, std::uint16_t port) {
  return *Endpoint::name(text, port);
}

Settings load_file(std::string_view text, EnvMap env = {}) {
  auto r = load_settings(env.lookup(), ConfigText{"t.conf", std::string(text)});
  if (!r) {
    for (const auto& e : r.error()) ADD_FAILURE() << e;
    return {};
  }
  return *r;
}

std::vector<std::string> file_errors(std::string_view text, EnvMap env = {}) {
  auto r = load_settings(env.lookup(), ConfigText{"t.conf", std::string(text)});
  EXPECT_FALSE(r.ok()) << "loaded unexpectedly:\n" << text;
  return r.ok() ? std::vector<std::string>{} : r.error();
}

// --- parse_route --------------------------------------------------------------

TEST(ParseRoute, EveryDestinationForm) {
  struct Case {
    const char* text;
    DirectRule::Kind kind;
    std::uint16_t port;
  };
  for (const Case& c : {
           Case{"10.0.0.0/8 via corp", DirectRule::Kind::Network, 0},
           Case{"10.1.2.3:22 via corp", DirectRule::Kind::Network, 22},
           Case{"[fd00::]/8:443 via corp", DirectRule::Kind::Network, 443},
           Case{"fd00::/16 via corp", DirectRule::Kind::Network, 0},
           Case{".example.test via corp", DirectRule::Kind::DomainSuffix, 0},
           Case{".example.test:8080 via corp", DirectRule::Kind::DomainSuffix, 8080},
           Case{"intranet via corp", DirectRule::Kind::HostName, 0},
           Case{":25 via corp", DirectRule::Kind::AnyHost, 25},
           Case{"*:25 via corp", DirectRule::Kind::AnyHost, 25},
           Case{"* via corp", DirectRule::Kind::AnyHost, 0},
       }) {
    auto r = parse_route(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().text;
    EXPECT_EQ(r->dest.kind, c.kind) << c.text;
    EXPECT_EQ(r->dest.port, c.port) << c.text;
    EXPECT_EQ(r->action, RouteRule::Action::Via) << c.text;
    EXPECT_EQ(r->via, "corp") << c.text;
    EXPECT_EQ(r->text, c.text);
  }
}

TEST(ParseRoute, DirectBlockAndDefaultTargets) {
  EXPECT_EQ(parse_route("* via direct")->action, RouteRule::Action::Direct);
  EXPECT_EQ(parse_route("* via DIRECT")->action, RouteRule::Action::Direct);
  EXPECT_EQ(parse_route(":25 via block")->action, RouteRule::Action::Block);
  auto d = parse_route(".x via default");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->action, RouteRule::Action::Via);
  EXPECT_EQ(d->via, "default");
  // Extra whitespace between the words is fine.
  EXPECT_TRUE(parse_route("  .x \t via   tor ").ok());
}

TEST(ParseRoute, BadLinesSayWhatIsWrong) {
  EXPECT_THAT(parse_route(".x corp").error().text, HasSubstr("expected 'DESTINATION via"));
  EXPECT_THAT(parse_route(".x via").error().text, HasSubstr("expected 'DESTINATION via"));
  EXPECT_THAT(parse_route(".x via a b").error().text, HasSubstr("expected 'DESTINATION via"));
  EXPECT_THAT(parse_route(".x to corp").error().text, HasSubstr("expected 'DESTINATION via"));
  EXPECT_THAT(parse_route("10.0.0.1/8 via corp").error().text, HasSubstr("10.0.0.1/8"));
  EXPECT_THAT(parse_route("a..b via corp").error().text, HasSubstr("empty label"));
  EXPECT_THAT(parse_route(":0 via corp").error().text, HasSubstr("invalid port"));
  EXPECT_THAT(parse_route(".x via c/rp").error().text, HasSubstr("invalid proxy name"));
}

// --- parse_proxy_definition -------------------------------------------------------

TEST(ProxyDefinition, NamedProxyAndPoolWithMode) {
  EXPECT_FALSE(is_proxy_definition("socks5://a:1080"));
  EXPECT_FALSE(is_proxy_definition("socks5://a, socks5://b"));
  EXPECT_TRUE(is_proxy_definition("corp http://10.0.0.5:3128"));

  auto one = parse_proxy_definition("corp http://u:p@10.0.0.5:3128");
  ASSERT_TRUE(one.ok()) << one.error().text;
  EXPECT_EQ(one->name, "corp");
  EXPECT_EQ(one->mode, ProxyMode::Failover);
  ASSERT_EQ(one->proxies.size(), 1u);
  EXPECT_EQ(one->proxies[0].protocol, ProxyProtocol::Http);
  EXPECT_EQ(one->proxies[0].password, "p");

  auto pool = parse_proxy_definition("pool round_robin socks5://a:1, socks5://b:2");
  ASSERT_TRUE(pool.ok()) << pool.error().text;
  EXPECT_EQ(pool->mode, ProxyMode::RoundRobin);
  ASSERT_EQ(pool->proxies.size(), 2u);
  EXPECT_EQ(pool->proxies[1].port, 2);
  EXPECT_EQ(parse_proxy_definition("p random socks5://a socks5://b")->mode, ProxyMode::Random);
  EXPECT_EQ(parse_proxy_definition("p chain socks5://a http://b")->mode, ProxyMode::Chain);
}

TEST(ProxyDefinition, BadDefinitionsSayWhy) {
  EXPECT_THAT(parse_proxy_definition("corp").error().text, HasSubstr("no proxy URL"));
  EXPECT_THAT(parse_proxy_definition("corp fastest socks5://a").error().text,
              HasSubstr("neither a proxy URL nor a mode"));
  EXPECT_THAT(parse_proxy_definition("direct socks5://a").error().text, HasSubstr("reserved"));
  EXPECT_THAT(parse_proxy_definition("default socks5://a").error().text, HasSubstr("reserved"));
  EXPECT_THAT(parse_proxy_definition("corp socks5://a:99999").error().text,
              HasSubstr("proxy corp:"));
}

TEST(ProxyMode, NamesRoundTrip) {
  for (const ProxyMode m :
       {ProxyMode::Failover, ProxyMode::Chain, ProxyMode::RoundRobin, ProxyMode::Random}) {
    EXPECT_EQ(*parse_proxy_mode(proxy_mode_name(m)), m);
  }
  EXPECT_FALSE(parse_proxy_mode("roundrobin").ok());
}

TEST(Onion, NamesUnderOnionOnly) {
  EXPECT_TRUE(is_onion_name("abc.onion"));
  EXPECT_TRUE(is_onion_name("x.abc.ONION."));
  EXPECT_TRUE(is_onion_name("onion"));
  EXPECT_FALSE(is_onion_name("notonion"));
  EXPECT_FALSE(is_onion_name("onion.example"));
}

// --- loading and matching ---------------------------------------------------------

constexpr std::string_view kThree = R"(proxy socks5h://10.0.0.1:1080
proxy corp http://10.0.0.5:3128
proxy tor socks5h://127.0.0.1:9050
proxy pool round_robin socks5://10.0.0.7 socks5://10.0.0.8
route 10.20.0.0/16 via corp
route .corp.test via corp
route .onion via direct
route :25 via block
route [fd00::]/8 via pool
route .tor.test:80 via tor
route .example.test via direct
)";

TEST(RouteLoad, NamesResolveToGroupsInOrder) {
  const Settings s = load_file(kThree);
  ASSERT_EQ(s.named_proxies.size(), 3u);
  ASSERT_EQ(s.routes.size(), 7u);
  EXPECT_EQ(s.routes[0].group, 1u);  // corp
  EXPECT_EQ(s.routes[4].group, 3u);  // pool
  EXPECT_EQ(s.routes[5].group, 2u);  // tor
  EXPECT_EQ(s.routes[0].origin, "t.conf:5");
  EXPECT_EQ(s.group_mode(3), ProxyMode::RoundRobin);
  EXPECT_EQ(s.group_proxies(2).front().port, 9050);
}

TEST(RouteMatch, FirstMatchWinsForEveryForm) {
  const Settings s = load_file(kThree);
  const auto group_of = [&](const Endpoint& e) {
    const RouteChoice c = choose_route(s, e);
    EXPECT_EQ(c.action, RouteRule::Action::Via) << fmt::format("{}", e);
    return c.group;
  };
  EXPECT_EQ(group_of(v4("10.20.3.4", 80)), 1u);        // CIDR
  EXPECT_EQ(group_of(name("10.20.3.4", 80)), 1u);      // an IP literal given as a name
  EXPECT_EQ(group_of(name("git.corp.test", 80)), 1u);  // domain suffix
  EXPECT_EQ(group_of(name("CORP.TEST.", 80)), 1u);
  EXPECT_EQ(group_of(v6("fd12::1", 443)), 3u);        // IPv6 CIDR
  EXPECT_EQ(group_of(name("www.tor.test", 80)), 2u);  // suffix with port
  EXPECT_EQ(group_of(name("www.tor.test", 81)), 0u);  // ... other port: no rule, unnamed
  EXPECT_EQ(group_of(v4("10.30.0.1", 80)), 0u);
  EXPECT_EQ(choose_route(s, v4("10.30.0.1", 80)).rule, kNoRoute);

  // .corp.test (line 2) comes before :25 via block (line 4): first match wins.
  EXPECT_EQ(choose_route(s, name("mail.corp.test", 25)).group, 1u);
  const RouteChoice blocked = choose_route(s, name("mail.other.test", 25));
  EXPECT_EQ(blocked.action, RouteRule::Action::Block);
  EXPECT_EQ(blocked.rule, 3u);
  const RouteChoice direct = choose_route(s, name("www.example.test", 443));
  EXPECT_EQ(direct.action, RouteRule::Action::Direct);
  EXPECT_FALSE(direct.direct_rule);
}

TEST(RouteMatch, LoopbackAndDirectRulesComeFirst) {
  const Settings s = load_file(
      "proxy socks5h://10.0.0.1\nproxy corp http://10.0.0.5\n"
      "direct .intra.test\nroute * via corp\n");
  EXPECT_TRUE(choose_route(s, v4("127.0.0.1", 80)).direct_rule);
  EXPECT_TRUE(choose_route(s, name("a.intra.test", 80)).direct_rule);
  EXPECT_EQ(choose_route(s, name("a.other.test", 80)).group, 1u);
}

TEST(RouteMatch, OnionNeverGoesDirect) {
  const Settings s = load_file(std::string(kThree) + "route .onion via tor\n" + "direct .onion\n");
  // `direct .onion` and `route .onion via direct` are passed by; the next
  // matching route (via tor) takes it.
  const RouteChoice c = choose_route(s, name("abcdef.onion", 80));
  EXPECT_EQ(c.action, RouteRule::Action::Via);
  EXPECT_EQ(c.group, 2u);
  // With nothing else matching, the unnamed list.
  const Settings plain = load_file("proxy socks5h://10.0.0.1\ndirect .onion\n");
  EXPECT_EQ(choose_route(plain, name("x.onion", 80)).action, RouteRule::Action::Via);
}

TEST(RouteLoad, EnvironmentRoutesAreSemicolonSeparatedAndReplaceTheFile) {
  EnvMap env{{"SOCKSIFY_ROUTE", " .a.test via corp ; :22 via direct;"}};
  const Settings s = load_file(kThree, env);
  ASSERT_EQ(s.routes.size(), 2u);
  EXPECT_EQ(s.routes[0].text, ".a.test via corp");
  EXPECT_EQ(s.routes[0].origin, "SOCKSIFY_ROUTE");
  EXPECT_EQ(s.routes[1].action, RouteRule::Action::Direct);
}

TEST(RouteLoad, EnvironmentDefinesNamedProxiesToo) {
  EnvMap env{{"SOCKSIFY_PROXY", "socks5h://10.0.0.1; corp http://10.0.0.5:3128"},
             {"SOCKSIFY_ROUTE", ".corp.test via corp"}};
  auto r = load_settings(env.lookup());
  ASSERT_TRUE(r.ok()) << r.error().front();
  ASSERT_EQ(r->proxies.size(), 1u);
  ASSERT_EQ(r->named_proxies.size(), 1u);
  EXPECT_EQ(r->routes[0].group, 1u);
}

TEST(RouteLoad, OnlyNamedProxiesNeedACatchAllRoute) {
  EXPECT_TRUE(load_settings(EnvMap{}.lookup(), ConfigText{"t.conf",
                                                          "proxy tor socks5h://127.0.0.1:9050\n"
                                                          "route * via tor\n"})
                  .ok());
  EXPECT_THAT(file_errors("proxy tor socks5h://127.0.0.1:9050\nroute .x via tor\n"),
              ElementsAre(HasSubstr("'route * via NAME'")));
}

TEST(RouteLoad, BadLinesNameTheirLine) {
  EXPECT_THAT(file_errors("proxy socks5://10.0.0.1\nroute .x via nowhere\n"),
              ElementsAre("t.conf:2: route '.x via nowhere': no proxy named 'nowhere' (define it "
                          "with 'proxy nowhere URL')"));
  EXPECT_THAT(file_errors("proxy socks5://10.0.0.1\n\nroute .x corp\n"),
              ElementsAre(HasSubstr("t.conf:3: '.x corp': expected 'DESTINATION via")));
  EXPECT_THAT(file_errors("proxy socks5://10.0.0.1\nproxy corp fastest http://a\n"),
              ElementsAre(HasSubstr("t.conf:2: proxy corp: 'fastest' is neither")));
  EXPECT_THAT(file_errors("proxy socks5://10.0.0.1\nproxy_mode fastest\n"),
              ElementsAre(HasSubstr("t.conf:2: expected failover, chain, round_robin or random")));
  EnvMap env{{"SOCKSIFY_ROUTE", ".x via nowhere"}};
  EXPECT_THAT(file_errors("proxy socks5://10.0.0.1\n", env),
              ElementsAre(HasSubstr("SOCKSIFY_ROUTE: route '.x via nowhere': no proxy named")));
}

TEST(RouteLoad, CredentialsAndDnsModeReachNamedProxies) {
  EnvMap env{
      {"SOCKSIFY_USERNAME", "alice"}, {"SOCKSIFY_PASSWORD", "pw"}, {"SOCKSIFY_DNS", "remote"}};
  const Settings s = load_file("proxy socks5://10.0.0.1\nproxy corp socks5://10.0.0.5\n", env);
  ASSERT_EQ(s.named_proxies.size(), 1u);
  EXPECT_EQ(s.named_proxies[0].proxies[0].user, "alice");
  EXPECT_TRUE(s.named_proxies[0].proxies[0].remote_dns);
}

TEST(RouteLoad, RemoteDnsWhenAnyGroupTakesNames) {
  const Settings s = load_file("proxy socks5://10.0.0.1\nproxy tor socks5h://127.0.0.1:9050\n");
  EXPECT_TRUE(s.remote_dns());
  EXPECT_FALSE(s.group_remote_dns(0));
  EXPECT_TRUE(s.group_remote_dns(1));
  EXPECT_FALSE(load_file("proxy socks5://10.0.0.1\n").remote_dns());
}

TEST(RouteLoad, IsolateVerboseAndLogFormat) {
  const Settings s =
      load_file("proxy socks5h://10.0.0.1\nisolate on\nverbose yes\nlog_format json\n");
  EXPECT_TRUE(s.isolate);
  EXPECT_TRUE(s.verbose);
  EXPECT_EQ(s.log_format, LogFormat::Json);
  EXPECT_THAT(file_errors("proxy socks5h://10.0.0.1\nlog_format xml\n"),
              ElementsAre(HasSubstr("expected text or json")));
}

}  // namespace
}  // namespace socksify
