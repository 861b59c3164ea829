#include "core/udp_datagram.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "socks5/codec.hpp"

namespace socksify {
namespace {

std::vector<std::byte> header_for(const Endpoint& ep) {
  std::vector<std::byte> h(socks5::kMaxUdpHeader);
  auto n = socks5::encode_udp_header(h, ep);
  EXPECT_TRUE(n.ok());
  h.resize(n.ok() ? n.value() : 0);
  return h;
}

Endpoint v4(const char* text, std::uint16_t port) {
  std::uint8_t a[4];
  inet_pton(AF_INET, text, a);
  return Endpoint::ipv4(a, port);
}

Endpoint v6(const char* text, std::uint16_t port) {
  std::uint8_t a[16];
  inet_pton(AF_INET6, text, a);
  return Endpoint::ipv6(a, port);
}

std::vector<std::byte> payload_of(std::size_t n) {
  std::vector<std::byte> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = std::byte(i * 13 + 1);
  return p;
}

// A receive laid out as udp_recvmsg does it: [header buffer of `expected`
// bytes | the program's buffers (sizes) | slack], filled as the kernel fills a
// scatter list: in order, up to its size.
struct Receive {
  std::vector<std::byte> header, slack;
  std::vector<std::vector<std::byte>> user;
  std::vector<iovec> iov;
  std::size_t capacity = 0;

  Receive(std::size_t expected, const std::vector<std::size_t>& sizes)
      : header(expected), slack(socks5::kMaxUdpHeader - expected) {
    for (std::size_t n : sizes) user.emplace_back(n, std::byte{0xEE});
    iov.push_back({header.data(), header.size()});
    for (auto& u : user) iov.push_back({u.data(), u.size()});
    iov.push_back({slack.data(), slack.size()});
    capacity = std::accumulate(sizes.begin(), sizes.end(), std::size_t{0});
  }

  void deliver(const std::vector<std::byte>& datagram) {
    std::size_t off = 0;
    for (const iovec& v : iov) {
      const std::size_t n = std::min(v.iov_len, datagram.size() - off);
      if (n == 0) continue;  // an empty buffer may have no address (memcpy forbids null)
      std::memcpy(v.iov_base, datagram.data() + off, n);
      off += n;
    }
  }

  std::vector<std::byte> program_bytes(std::size_t n) const {
    std::vector<std::byte> out;
    for (const auto& u : user) out.insert(out.end(), u.begin(), u.end());
    out.resize(std::min(n, out.size()));
    return out;
  }
};

struct Case {
  std::string name;
  Endpoint source;
  std::size_t expected;
  std::vector<std::size_t> user;
  std::size_t payload;
};

void check(const Case& c) {
  SCOPED_TRACE(c.name);
  auto datagram = header_for(c.source);
  const std::size_t header_len = datagram.size();
  const auto payload = payload_of(c.payload);
  datagram.insert(datagram.end(), payload.begin(), payload.end());

  Receive r(c.expected, c.user);
  r.deliver(datagram);
  const Unwrapped u = unwrap_datagram(r.iov, c.expected, datagram.size(), r.capacity);
  ASSERT_TRUE(u.ok);
  EXPECT_EQ(u.header_len, header_len);
  EXPECT_EQ(u.frag, 0);
  EXPECT_EQ(u.source, c.source);
  EXPECT_EQ(u.payload_len, c.payload);
  const std::size_t fits = std::min(c.payload, r.capacity);
  EXPECT_EQ(u.delivered, fits);
  const std::vector<std::byte> want(payload.begin(), payload.begin() + fits);
  EXPECT_EQ(r.program_bytes(fits), want);
}

TEST(UnwrapDatagram, HeaderAsExpectedLeavesThePayloadInPlace) {
  check({"ipv4 as expected", v4("10.0.2.2", 7007), 10, {64}, 20});
  check({"ipv6 as expected", v6("fd00:201::2", 7007), 22, {7, 0, 9, 100}, 50});
}

TEST(UnwrapDatagram, ShorterHeaderMovesThePayloadRightInTheProgramsBuffers) {
  check({"ipv4 after ipv6", v4("10.0.2.2", 53), 22, {5, 3, 200}, 150});
  check({"ipv4 after ipv6, tiny payload", v4("10.0.2.2", 53), 22, {1, 1, 1}, 2});
  check({"ipv4 after ipv6, empty payload", v4("10.0.2.2", 53), 22, {16}, 0});
  check({"ipv4 after ipv6, truncated", v4("10.0.2.2", 53), 22, {4, 4}, 30});
}

TEST(UnwrapDatagram, LongerHeaderMovesThePayloadLeftAndUsesTheSlack) {
  check({"ipv6 after ipv4", v6("fd00:201::2", 53), 10, {8, 8, 8}, 100});
  check({"ipv6 after ipv4, fits", v6("fd00:201::2", 53), 10, {1000}, 100});
  const auto name = *Endpoint::name(std::string(200, 'n') + ".test", 53);
  check({"long name after ipv4, truncated", name, 10, {3, 50, 7}, 500});
  check({"long name after ipv4, fits", name, 10, {3, 500, 7}, 300});
  check({"ipv4 after long name", v4("10.0.2.2", 53), 7 + 205, {10, 10}, 15});
}

TEST(UnwrapDatagram, ProgramWithNoBufferStillLearnsTheLength) {
  check({"zero capacity", v4("10.0.2.2", 9), 10, {}, 40});
  check({"zero capacity, longer header", v6("fd00::1", 9), 10, {0}, 40});
}

TEST(UnwrapDatagram, ReportsFragmentsForTheCallerToDrop) {
  auto datagram = header_for(v4("10.0.2.2", 7));
  datagram[2] = std::byte{1};  // FRAG
  datagram.push_back(std::byte{'x'});
  Receive r(10, {16});
  r.deliver(datagram);
  const Unwrapped u = unwrap_datagram(r.iov, 10, datagram.size(), r.capacity);
  ASSERT_TRUE(u.ok);
  EXPECT_EQ(u.frag, 1);
}

TEST(UnwrapDatagram, RejectsMalformedAndShortHeaders) {
  Receive r(10, {16});
  std::vector<std::byte> bad_rsv = header_for(v4("10.0.2.2", 7));
  bad_rsv[0] = std::byte{1};
  r.deliver(bad_rsv);
  EXPECT_FALSE(unwrap_datagram(r.iov, 10, bad_rsv.size(), r.capacity).ok);

  std::vector<std::byte> cut = header_for(v6("fd00::2", 7));
  cut.resize(15);  // an IPv6 header cut short
  Receive r2(10, {16});
  r2.deliver(cut);
  EXPECT_FALSE(unwrap_datagram(r2.iov, 10, cut.size(), r2.capacity).ok);
}

}  // namespace
}  // namespace socksify
