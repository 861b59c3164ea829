// The DNS injector with real loopback sockets: an answer sent from it arrives
// in a socket bound to the wildcard (IPv4, dual-stack IPv6, IPv6-only) and in
// a socket connected to the injector, whose kernel filter then admits nothing
// else; the source of what arrives is recognised as the injector's.
#include "core/dns_injector.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace socksify {
namespace {

struct Sock {
  int fd;
  explicit Sock(int family) : fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~Sock() { ::close(fd); }
};

sockaddr_storage wildcard(int family, socklen_t& len) {
  sockaddr_storage ss{};
  ss.ss_family = static_cast<sa_family_t>(family);
  len = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  return ss;
}

sockaddr_storage bound_wildcard(int fd, int family, socklen_t& len) {
  sockaddr_storage ss = wildcard(family, len);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
  len = sizeof ss;
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), 0);
  return ss;
}

// The datagram that arrives within a second, and whether its source is the injector.
std::pair<std::string, bool> receive(int fd, int wait_ms = 1000) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, wait_ms) != 1) return {"", false};
  char buf[512];
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  const ssize_t n =
      ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return {"", false};
  return {std::string(buf, static_cast<std::size_t>(n)),
          dns_is_injector(reinterpret_cast<sockaddr*>(&from), len)};
}

std::span<const std::byte> bytes(const char* s) {
  return {reinterpret_cast<const std::byte*>(s), std::strlen(s)};
}

TEST(DnsInjector, ReachesSocketsBoundToTheWildcardOfEachFamily) {
  for (int family : {AF_INET, AF_INET6}) {
    for (int v6only : {0, 1}) {
      if (family == AF_INET && v6only) continue;
      Sock s(family);
      if (family == AF_INET6) {
        ASSERT_EQ(setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only), 0);
      }
      socklen_t len = 0;
      const sockaddr_storage local = bound_wildcard(s.fd, family, len);
      ASSERT_TRUE(dns_inject(bytes("answer"), local, len, v6only != 0).ok());
      const auto [data, from_injector] = receive(s.fd);
      EXPECT_EQ(data, "answer") << family << " v6only " << v6only;
      EXPECT_TRUE(from_injector) << family << " v6only " << v6only;
    }
  }
}

TEST(DnsInjector, ASocketConnectedToItHearsOnlyTheInjector) {
  Sock s(AF_INET);
  sockaddr_storage inj{};
  auto inj_len = dns_injector_address(AF_INET, false, inj);
  ASSERT_TRUE(inj_len.ok());
  ASSERT_EQ(::connect(s.fd, reinterpret_cast<sockaddr*>(&inj), *inj_len), 0);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  ASSERT_EQ(::getsockname(s.fd, reinterpret_cast<sockaddr*>(&local), &len), 0);
  // Another loopback socket's datagram is filtered out by the kernel.
  Sock other(AF_INET);
  ASSERT_EQ(::sendto(other.fd, "spoof", 5, 0, reinterpret_cast<sockaddr*>(&local), len), 5);
  ASSERT_TRUE(dns_inject(bytes("ours"), local, len, false).ok());
  const auto [data, from_injector] = receive(s.fd);
  EXPECT_EQ(data, "ours");
  EXPECT_TRUE(from_injector);
  EXPECT_EQ(receive(s.fd, 50).first, "");  // nothing else queued
  // A dual-stack IPv6 socket reaches the IPv4 injector v4-mapped.
  auto mapped_len = dns_injector_address(AF_INET6, false, inj);
  ASSERT_TRUE(mapped_len.ok());
  const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&inj);
  EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr));
  EXPECT_TRUE(dns_is_injector(reinterpret_cast<sockaddr*>(&inj), *mapped_len));
}

TEST(DnsInjector, OtherLoopbackSourcesAreNotTheInjector) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(53);
  EXPECT_FALSE(dns_is_injector(reinterpret_cast<sockaddr*>(&a), sizeof a));
  sockaddr_storage inj{};
  auto len = dns_injector_address(AF_INET, false, inj);
  ASSERT_TRUE(len.ok());
  auto* in = reinterpret_cast<sockaddr_in*>(&inj);
  EXPECT_TRUE(dns_is_injector(reinterpret_cast<sockaddr*>(&inj), *len));
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);  // 127.0.0.2, same port
  EXPECT_FALSE(dns_is_injector(reinterpret_cast<sockaddr*>(&inj), *len));
  EXPECT_FALSE(dns_is_injector(nullptr, 0));
}

}  // namespace
}  // namespace socksify
