#include "socks4/codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <string>

#include "../socks5/wire_bytes.hpp"

namespace socksify::socks4 {
namespace {

using socks5::DecodeStatus;
using socks5::testing::Bytes;
using socks5::testing::bytes;
using socks5::testing::cat;
using socks5::testing::hex;
using socks5::testing::prefix;
using socks5::testing::text;

Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  const std::array<std::uint8_t, 4> ip{a, b, c, d};
  return Endpoint::ipv4(ip, port);
}

std::string encoded(Command cmd, const Endpoint& dst, std::string_view user) {
  std::array<std::byte, kMaxRequest> out{};
  auto n = encode_request(out, cmd, dst, user);
  EXPECT_TRUE(n.ok());
  return n.ok() ? hex(std::span(out).first(*n)) : std::string();
}

TEST(Socks4Request, ConnectIPv4WithUserId) {
  EXPECT_EQ(encoded(Command::Connect, v4(10, 0, 0, 2, 80), "fred"),
            hex(cat({bytes({4, 1, 0, 80, 10, 0, 0, 2}), text("fred"), bytes({0})})));
}

TEST(Socks4Request, EmptyUserIdIsOneNul) {
  EXPECT_EQ(encoded(Command::Connect, v4(192, 0, 2, 1, 0x1234), ""),
            hex(bytes({4, 1, 0x12, 0x34, 192, 0, 2, 1, 0})));
}

TEST(Socks4Request, BindCommandByte) {
  EXPECT_EQ(encoded(Command::Bind, v4(10, 0, 0, 2, 21), ""),
            hex(bytes({4, 2, 0, 21, 10, 0, 0, 2, 0})));
}

TEST(Socks4Request, NameUsesTheSocks4aForm) {
  const auto name = Endpoint::name("example.test", 443);
  ASSERT_TRUE(name);
  EXPECT_EQ(encoded(Command::Connect, *name, "u"),
            hex(cat({bytes({4, 1, 0x01, 0xBB, 0, 0, 0, 1}), text("u"), bytes({0}),
                     text("example.test"), bytes({0})})));
}

TEST(Socks4Request, LongestRequestFitsTheBuffer) {
  const std::string user(kMaxUserId, 'u');
  const auto name = Endpoint::name(std::string(Endpoint::kMaxNameLength, 'n'), 1);
  ASSERT_TRUE(name);
  std::array<std::byte, kMaxRequest> out{};
  auto n = encode_request(out, Command::Connect, *name, user);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, kMaxRequest);
}

TEST(Socks4Request, Refusals) {
  std::array<std::byte, kMaxRequest> out{};
  const std::array<std::uint8_t, 16> six{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  EXPECT_EQ(encode_request(out, Command::Connect, Endpoint::ipv6(six, 80), "").error().code,
            EAFNOSUPPORT);
  EXPECT_EQ(encode_request(out, Command::Connect, Endpoint{}, "").error().code, EINVAL);
  EXPECT_EQ(encode_request(out, Command::Connect, v4(1, 2, 3, 4, 5), std::string_view("a\0b", 3))
                .error()
                .code,
            EINVAL);
  EXPECT_EQ(
      encode_request(out, Command::Connect, v4(1, 2, 3, 4, 5), std::string(kMaxUserId + 1, 'u'))
          .error()
          .code,
      EINVAL);
  std::array<std::byte, 8> small{};  // no room for the USERID's NUL
  EXPECT_EQ(encode_request(small, Command::Connect, v4(1, 2, 3, 4, 5), "").error().code, ENOBUFS);
}

TEST(Socks4Reply, GrantedCarriesTheBoundAddress) {
  const Bytes in = bytes({0, 90, 0x1F, 0x90, 10, 0, 0, 3});
  const auto d = decode_reply(in);
  ASSERT_EQ(d.status, DecodeStatus::Ok);
  EXPECT_EQ(d.size, 8u);
  EXPECT_EQ(d.value.code, 90);
  EXPECT_EQ(d.value.bound, v4(10, 0, 0, 3, 8080));
}

TEST(Socks4Reply, EveryRefusalCodeDecodes) {
  for (const int cd : {91, 92, 93}) {
    const Bytes in = bytes({0, cd, 0, 0, 0, 0, 0, 0});
    const auto d = decode_reply(in);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << cd;
    EXPECT_EQ(d.value.code, cd);
  }
}

TEST(Socks4Reply, PrefixesAskForExactlyEightBytes) {
  const Bytes in = bytes({0, 90, 0, 80, 1, 2, 3, 4, 'G', 'E', 'T'});
  for (std::size_t k = 0; k < 8; ++k) {
    const auto d = decode_reply(prefix(in, k));
    EXPECT_EQ(d.status, DecodeStatus::NeedMore) << k;
    EXPECT_EQ(d.size, 8u) << k;
  }
  const auto d = decode_reply(in);  // application bytes after the reply are not consumed
  ASSERT_EQ(d.status, DecodeStatus::Ok);
  EXPECT_EQ(d.size, 8u);
}

TEST(Socks4Reply, Malformed) {
  // VN 4 (a server echoing the request's version), VN 5, a CD outside 90..93.
  for (const Bytes& in : {bytes({4, 90, 0, 0, 0, 0, 0, 0}), bytes({5}), bytes({0, 0}),
                          bytes({0, 89, 0, 0, 0, 0, 0, 0}), bytes({0, 94}), bytes({0, 255})}) {
    const auto d = decode_reply(in);
    EXPECT_EQ(d.status, DecodeStatus::Malformed) << hex(in);
    EXPECT_EQ(d.size, 0u);
  }
}

TEST(Socks4Reply, ErrnoForEveryCode) {
  EXPECT_EQ(reply_errno(90), 0);
  EXPECT_EQ(reply_errno(91), ECONNREFUSED);
  EXPECT_EQ(reply_errno(92), EACCES);
  EXPECT_EQ(reply_errno(93), EACCES);
  EXPECT_EQ(reply_errno(0), EPROTO);
  EXPECT_EQ(reply_errno(94), EPROTO);
  EXPECT_EQ(reply_text(91), "SOCKS4 request rejected or failed");
  EXPECT_EQ(reply_text(92), "SOCKS4 proxy cannot reach identd on this host");
  EXPECT_EQ(reply_text(93), "SOCKS4 proxy's identd check does not match the user id");
  EXPECT_EQ(reply_text(7), "unknown SOCKS4 reply code");
}

}  // namespace
}  // namespace socksify::socks4
