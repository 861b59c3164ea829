#include "core/route.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "test_runtime.hpp"

namespace socksify {
namespace {

Endpoint ip(const char* text, std::uint16_t port) {
  sockaddr_storage ss{};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    return *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(in), sizeof *in);
  }
  EXPECT_EQ(inet_pton(AF_INET6, text, &in6->sin6_addr), 1) << text;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  return *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(in6), sizeof *in6);
}

using testing::runtime;

TEST(Route, RemoteHostsGoThroughTheProxy) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1:1080"}});
  ASSERT_TRUE(rt.configured()) << rt.config_error();
  const Route r = route_for(rt, ip("10.200.1.2", 80));
  EXPECT_EQ(r.kind, Route::Kind::Proxy);
  EXPECT_EQ(r.target, ip("10.200.1.2", 80));
}

TEST(Route, LoopbackGoesDirectUnlessTurnedOff) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1"}});
  EXPECT_EQ(route_for(rt, ip("127.0.0.2", 80)).kind, Route::Kind::Direct);
  EXPECT_EQ(route_for(rt, ip("::1", 80)).kind, Route::Kind::Direct);
  Runtime off =
      runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1"}, {"SOCKSIFY_DIRECT_LOOPBACK", "off"}});
  EXPECT_EQ(route_for(off, ip("127.0.0.2", 80)).kind, Route::Kind::Proxy);
}

TEST(Route, TheProxyItselfIsReachedDirectlyEvenV4Mapped) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1:1080"}});
  EXPECT_EQ(route_for(rt, ip("10.0.0.1", 1080)).kind, Route::Kind::Direct);
  EXPECT_EQ(route_for(rt, ip("::ffff:10.0.0.1", 1080)).kind, Route::Kind::Direct);
  EXPECT_EQ(route_for(rt, ip("10.0.0.1", 1081)).kind, Route::Kind::Proxy);
}

TEST(Route, V4MappedDestinationsAreAskedForAsIPv4) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1"}});
  const Route r = route_for(rt, ip("::ffff:10.200.1.2", 80));
  EXPECT_EQ(r.target.kind(), Endpoint::Kind::IPv4);
}

TEST(Route, FakeAddressesCarryTheirNameAndUnknownOnesAreRefused) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5h://10.0.0.1"}});
  ASSERT_NE(rt.names(), nullptr);
  std::uint8_t a[4];
  ASSERT_TRUE(rt.names()->address_for("target.test", AF_INET, a));
  const Route r = route_for(rt, Endpoint::ipv4(a, 8080));
  EXPECT_EQ(r.kind, Route::Kind::Proxy);
  EXPECT_EQ(r.target, *Endpoint::name("target.test", 8080));
  // Never handed out: no name to send, and a direct connect would leak.
  const Route unknown = route_for(rt, ip("240.0.7.7", 80));
  EXPECT_EQ(unknown.kind, Route::Kind::Refuse);
  EXPECT_EQ(unknown.error, EHOSTUNREACH);
}

TEST(Route, DirectRulesBypassTheProxy) {
  Runtime rt =
      runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1"}, {"SOCKSIFY_DIRECT", "192.168.0.0/16"}});
  ASSERT_TRUE(rt.configured()) << rt.config_error();
  EXPECT_EQ(route_for(rt, ip("192.168.4.4", 22)).kind, Route::Kind::Direct);
  EXPECT_EQ(route_for(rt, ip("192.169.4.4", 22)).kind, Route::Kind::Proxy);
}

TEST(Route, UnconfiguredProcessesFailClosedThroughTheSession) {
  Runtime rt = runtime({});
  EXPECT_FALSE(rt.configured());
  // Not Direct: the session refuses with a log line (ENETUNREACH).
  EXPECT_EQ(route_for(rt, ip("10.200.1.2", 80)).kind, Route::Kind::Proxy);
}

TEST(Route, RemoteDnsRefusesDnsThatWouldGoOutDirectly) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5h://10.0.1.2:1080"}});
  const Route r = route_for(rt, ip("127.0.0.53", 53));
  EXPECT_EQ(r.kind, Route::Kind::Refuse);
  EXPECT_EQ(r.error, EACCES);
  // Other loopback traffic stays direct.
  EXPECT_EQ(route_for(rt, ip("127.0.0.53", 5353)).kind, Route::Kind::Direct);
  // DNS to a remote server goes through the proxy, not refused.
  EXPECT_EQ(route_for(rt, ip("10.0.2.2", 53)).kind, Route::Kind::Proxy);
}

TEST(Route, RemoteDnsRefusesDnsToANetworkRuledDirect) {
  Runtime rt = runtime(
      {{"SOCKSIFY_PROXY", "socks5h://10.0.1.2:1080"}, {"SOCKSIFY_DIRECT", "192.168.0.0/16"}});
  EXPECT_EQ(route_for(rt, ip("192.168.1.1", 53)).kind, Route::Kind::Refuse);
  EXPECT_EQ(route_for(rt, ip("192.168.1.1", 80)).kind, Route::Kind::Direct);
}

TEST(Route, DnsToTheProxyItselfStaysDirect) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5h://127.0.0.1:53"}});
  EXPECT_EQ(route_for(rt, ip("127.0.0.1", 53)).kind, Route::Kind::Direct);
}

TEST(Route, LocalDnsStaysDirectWithoutRemoteDns) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.1.2:1080"}});
  EXPECT_EQ(route_for(rt, ip("127.0.0.53", 53)).kind, Route::Kind::Direct);
}

}  // namespace
}  // namespace socksify

// --- route rules (issue 13) ---------------------------------------------------

namespace socksify {
namespace {

using testing::runtime;

TEST(RouteRules, GroupsBlockAndDirectByRule) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5://10.0.0.1:1080; corp http://10.0.0.5:3128"},
                        {"SOCKSIFY_ROUTE",
                         "10.20.0.0/16 via corp; :25 via block; "
                         "10.30.0.0/16 via direct"}});
  ASSERT_TRUE(rt.configured()) << rt.config_error();
  const Route corp = route_for(rt, ip("10.20.1.1", 80));
  EXPECT_EQ(corp.kind, Route::Kind::Proxy);
  EXPECT_EQ(corp.group, 1u);
  EXPECT_EQ(corp.rule, 0u);
  EXPECT_EQ(route_group_for(rt, ip("10.20.1.1", 80)), 1u);
  const Route blocked = route_for(rt, ip("10.40.1.1", 25));
  EXPECT_EQ(blocked.kind, Route::Kind::Refuse);
  EXPECT_EQ(blocked.error, EACCES);
  EXPECT_EQ(route_for(rt, ip("10.30.1.1", 80)).kind, Route::Kind::Direct);
  const Route plain = route_for(rt, ip("10.50.1.1", 80));
  EXPECT_EQ(plain.kind, Route::Kind::Proxy);
  EXPECT_EQ(plain.group, 0u);
  // Every group's proxy is reached directly (the program may talk to it).
  EXPECT_EQ(route_for(rt, ip("10.0.0.5", 3128)).kind, Route::Kind::Direct);
}

TEST(RouteRules, NameRulesMatchTheNameBehindAFakeAddress) {
  Runtime rt = runtime({{"SOCKSIFY_PROXY", "socks5h://10.0.0.1:1080; corp http://10.0.0.5:3128"},
                        {"SOCKSIFY_ROUTE", ".corp.test via corp; .bad.test via block"}});
  ASSERT_NE(rt.names(), nullptr);
  auto fake = [&](const char* host) {
    std::uint8_t a[4] = {};
    EXPECT_TRUE(rt.names()->address_for(host, AF_INET, a)) << host;
    return Endpoint::ipv4(std::span<const std::uint8_t, 4>(a, 4), 443);
  };
  const Route corp = route_for(rt, fake("git.corp.test"));
  EXPECT_EQ(corp.kind, Route::Kind::Proxy);
  EXPECT_EQ(corp.group, 1u);
  EXPECT_EQ(corp.target.kind(), Endpoint::Kind::Name);
  EXPECT_EQ(route_for(rt, fake("www.bad.test")).error, EACCES);
  EXPECT_EQ(route_for(rt, fake("www.other.test")).group, 0u);
}

}  // namespace
}  // namespace socksify
