#include "core/route.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "core/runtime.hpp"
#include "dns/name_table.hpp"

namespace socksify {
namespace {

std::unique_ptr<Runtime> runtime_with(std::map<std::string, std::string> env) {
  auto rt = std::make_unique<Runtime>();
  env.emplace("SOCKSIFY_LOG_LEVEL", "quiet");
  rt->load([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  return rt;
}

Endpoint v4(const char* text, std::uint16_t port) {
  std::uint8_t a[4];
  inet_pton(AF_INET, text, a);
  return Endpoint::ipv4(a, port);
}

TEST(Route, RemoteDnsRefusesDnsThatWouldGoOutDirectly) {
  const auto rt = runtime_with({{"SOCKSIFY_PROXY", "socks5h://10.0.1.2:1080"}});
  const Route r = route_for(*rt, v4("127.0.0.53", 53));
  EXPECT_EQ(r.kind, Route::Kind::Refuse);
  EXPECT_EQ(r.error, EACCES);
  // Other loopback traffic stays direct.
  EXPECT_EQ(route_for(*rt, v4("127.0.0.53", 5353)).kind, Route::Kind::Direct);
  // DNS to a remote server goes through the proxy, not refused.
  EXPECT_EQ(route_for(*rt, v4("10.0.2.2", 53)).kind, Route::Kind::Proxy);
}

TEST(Route, RemoteDnsRefusesDnsToANetworkRuledDirect) {
  const auto rt = runtime_with(
      {{"SOCKSIFY_PROXY", "socks5h://10.0.1.2:1080"}, {"SOCKSIFY_DIRECT", "192.168.0.0/16"}});
  EXPECT_EQ(route_for(*rt, v4("192.168.1.1", 53)).kind, Route::Kind::Refuse);
  EXPECT_EQ(route_for(*rt, v4("192.168.1.1", 80)).kind, Route::Kind::Direct);
}

TEST(Route, DnsToTheProxyItselfStaysDirect) {
  const auto rt = runtime_with({{"SOCKSIFY_PROXY", "socks5h://127.0.0.1:53"}});
  EXPECT_EQ(route_for(*rt, v4("127.0.0.1", 53)).kind, Route::Kind::Direct);
}

TEST(Route, LocalDnsStaysDirectWithoutRemoteDns) {
  const auto rt = runtime_with({{"SOCKSIFY_PROXY", "socks5://10.0.1.2:1080"}});
  EXPECT_EQ(route_for(*rt, v4("127.0.0.53", 53)).kind, Route::Kind::Direct);
}

}  // namespace
}  // namespace socksify
