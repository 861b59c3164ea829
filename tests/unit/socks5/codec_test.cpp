#include "socks5/codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <ostream>
#include <set>
#include <string>

#include "wire_bytes.hpp"

namespace socksify::socks5 {
namespace {

using testing::Bytes;
using testing::bytes;
using testing::cat;
using testing::hex;
using testing::prefix;
using testing::text;

Endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint16_t port) {
  const std::array<std::uint8_t, 4> addr{a, b, c, d};
  return Endpoint::ipv4(addr, port);
}

Endpoint v6_fd00_2(std::uint16_t port) {
  std::array<std::uint8_t, 16> addr{};
  addr[0] = 0xfd;
  addr[15] = 0x02;
  return Endpoint::ipv6(addr, port);
}

Endpoint named(std::string_view host, std::uint16_t port) {
  return *Endpoint::name(host, port);
}

// The wire form of ATYP | ADDR | PORT for the three example endpoints above.
const Bytes kV4Addr = bytes({0x01, 10, 200, 1, 2, 0x1f, 0x90});  // 10.200.1.2:8080
const Bytes kV6Addr = bytes(
    {0x04, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x01, 0xbb});  // [fd00::2]:443
const Bytes kNameAddr = cat({bytes({0x03, 12}), text("example.test"), bytes({0x00, 0x50})});

// --- greeting, RFC 1928 §3 ---

TEST(Socks5Greeting, OffersOnlyNoAuthWithoutCredentials) {
  std::array<std::byte, kMaxGreeting> out{};
  const std::size_t n = encode_greeting(out, false);
  EXPECT_EQ(hex(std::span(out).first(n)), "05 01 00");
}

TEST(Socks5Greeting, OffersNoAuthAndUserPasswordWithCredentials) {
  std::array<std::byte, kMaxGreeting> out{};
  const std::size_t n = encode_greeting(out, true);
  EXPECT_EQ(hex(std::span(out).first(n)), "05 02 00 02");
}

TEST(Socks5Greeting, WritesNothingWhenBufferTooSmall) {
  std::array<std::byte, 4> out{};
  EXPECT_EQ(encode_greeting(std::span(out).first(2), false), 0u);
  EXPECT_EQ(encode_greeting(std::span(out).first(3), true), 0u);
  EXPECT_EQ(hex(out), "00 00 00 00");
  EXPECT_EQ(encode_greeting(std::span(out).first(3), false), 3u);
  EXPECT_EQ(encode_greeting(std::span(out).first(4), true), 4u);
}

TEST(Socks5MethodChoice, DecodesEveryMethodByteAsIs) {
  for (int m : {0x00, 0x01, 0x02, 0x03, 0x80, 0xFE, 0xFF}) {
    const Bytes in = bytes({0x05, m});
    const auto d = decode_method_choice(in);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << m;
    EXPECT_EQ(d.size, 2u);
    EXPECT_EQ(static_cast<int>(d.value), m);
  }
}

TEST(Socks5MethodChoice, ConsumesOnlyItsTwoBytes) {
  const Bytes in = bytes({0x05, 0x02, 0x01, 0x00});
  const auto d = decode_method_choice(in);
  ASSERT_EQ(d.status, DecodeStatus::Ok);
  EXPECT_EQ(d.size, 2u);
  EXPECT_EQ(d.value, Method::UserPassword);
}

TEST(Socks5MethodChoice, AsksForTwoBytesUntilComplete) {
  const Bytes in = bytes({0x05, 0x00});
  for (std::size_t k = 0; k < in.size(); ++k) {
    const auto d = decode_method_choice(prefix(in, k));
    EXPECT_EQ(d.status, DecodeStatus::NeedMore) << k;
    EXPECT_EQ(d.size, 2u) << k;
  }
}

TEST(Socks5MethodChoice, RejectsVersionOtherThanFive) {
  for (int ver : {0x00, 0x01, 0x04, 0x06, 0xFF}) {
    EXPECT_EQ(decode_method_choice(bytes({ver, 0x00})).status, DecodeStatus::Malformed) << ver;
    // The version byte alone is enough to know.
    EXPECT_EQ(decode_method_choice(bytes({ver})).status, DecodeStatus::Malformed) << ver;
  }
}

// --- username/password, RFC 1929 §2 ---

TEST(Socks5AuthRequest, EncodesVersionLengthsAndCredentials) {
  std::array<std::byte, kMaxAuthRequest> out{};
  const auto n = encode_auth_request(out, "alice", "s3cret");
  ASSERT_TRUE(n);
  EXPECT_EQ(hex(std::span(out).first(*n)),
            hex(cat({bytes({0x01, 5}), text("alice"), bytes({6}), text("s3cret")})));
}

TEST(Socks5AuthRequest, AcceptsMaximumLengthsThatFillTheLargestBuffer) {
  const std::string user(255, 'u');
  const std::string pass(255, 'p');
  std::array<std::byte, kMaxAuthRequest> out{};
  const auto n = encode_auth_request(out, user, pass);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, kMaxAuthRequest);
  EXPECT_EQ(out[1], std::byte{255});
  EXPECT_EQ(out[2], std::byte{'u'});
  EXPECT_EQ(out[2 + 255], std::byte{255});
  EXPECT_EQ(out[kMaxAuthRequest - 1], std::byte{'p'});
}

TEST(Socks5AuthRequest, RejectsEmptyOrOverlongUserOrPassword) {
  std::array<std::byte, kMaxAuthRequest + 8> out{};
  const std::string long_field(256, 'x');
  for (auto [user, pass] : {std::pair<std::string_view, std::string_view>{"", "pw"},
                            {"user", ""},
                            {"", ""},
                            {long_field, "pw"},
                            {"user", long_field}}) {
    const auto n = encode_auth_request(out, user, pass);
    ASSERT_FALSE(n) << user.size() << "/" << pass.size();
    EXPECT_EQ(n.error(), Errno{EINVAL});
  }
}

TEST(Socks5AuthRequest, ReportsNoBufsForEveryTooSmallBuffer) {
  std::array<std::byte, 16> out{};
  const std::size_t need = 3 + 5 + 6;
  for (std::size_t size = 0; size < need; ++size) {
    const auto n = encode_auth_request(std::span(out).first(size), "alice", "s3cret");
    ASSERT_FALSE(n) << size;
    EXPECT_EQ(n.error(), Errno{ENOBUFS}) << size;
  }
  EXPECT_TRUE(encode_auth_request(std::span(out).first(need), "alice", "s3cret"));
}

TEST(Socks5AuthReply, StatusZeroIsSuccessAnythingElseFailure) {
  for (int status = 0; status <= 0xFF; ++status) {
    const auto d = decode_auth_reply(bytes({0x01, status}));
    ASSERT_EQ(d.status, DecodeStatus::Ok) << status;
    EXPECT_EQ(d.size, 2u);
    EXPECT_EQ(d.value, status == 0) << status;
  }
}

TEST(Socks5AuthReply, AsksForTwoBytesUntilComplete) {
  const Bytes in = bytes({0x01, 0x00});
  for (std::size_t k = 0; k < in.size(); ++k) {
    const auto d = decode_auth_reply(prefix(in, k));
    EXPECT_EQ(d.status, DecodeStatus::NeedMore) << k;
    EXPECT_EQ(d.size, 2u) << k;
  }
}

TEST(Socks5AuthReply, RejectsVersionOtherThanOne) {
  // 0x05 is the classic mistake: answering the sub-negotiation with the SOCKS version.
  for (int ver : {0x00, 0x02, 0x05, 0xFF}) {
    EXPECT_EQ(decode_auth_reply(bytes({ver, 0x00})).status, DecodeStatus::Malformed) << ver;
    EXPECT_EQ(decode_auth_reply(bytes({ver})).status, DecodeStatus::Malformed) << ver;
  }
}

// --- request, RFC 1928 §4 ---

TEST(Socks5Request, EncodesConnectToIPv4) {
  std::array<std::byte, kMaxRequest> out{};
  const auto n = encode_request(out, Command::Connect, v4(10, 200, 1, 2, 8080));
  ASSERT_TRUE(n);
  EXPECT_EQ(hex(std::span(out).first(*n)), hex(cat({bytes({0x05, 0x01, 0x00}), kV4Addr})));
}

TEST(Socks5Request, EncodesConnectToIPv6) {
  std::array<std::byte, kMaxRequest> out{};
  const auto n = encode_request(out, Command::Connect, v6_fd00_2(443));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 22u);
  EXPECT_EQ(hex(std::span(out).first(*n)), hex(cat({bytes({0x05, 0x01, 0x00}), kV6Addr})));
}

TEST(Socks5Request, EncodesConnectToNameForRemoteResolution) {
  std::array<std::byte, kMaxRequest> out{};
  const auto n = encode_request(out, Command::Connect, named("example.test", 80));
  ASSERT_TRUE(n);
  EXPECT_EQ(hex(std::span(out).first(*n)), hex(cat({bytes({0x05, 0x01, 0x00}), kNameAddr})));
}

TEST(Socks5Request, EncodesBindAndUdpAssociateCommandBytes) {
  std::array<std::byte, kMaxRequest> out{};
  ASSERT_TRUE(encode_request(out, Command::Bind, v4(0, 0, 0, 0, 0)));
  EXPECT_EQ(out[1], std::byte{0x02});
  ASSERT_TRUE(encode_request(out, Command::UdpAssociate, v4(0, 0, 0, 0, 0)));
  EXPECT_EQ(out[1], std::byte{0x03});
}

TEST(Socks5Request, LongestNameFillsTheLargestBuffer) {
  const std::string host(Endpoint::kMaxNameLength, 'h');
  std::array<std::byte, kMaxRequest> out{};
  const auto n = encode_request(out, Command::Connect, named(host, 0xABCD));
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, kMaxRequest);
  EXPECT_EQ(out[4], std::byte{255});
  EXPECT_EQ(out[kMaxRequest - 2], std::byte{0xAB});
  EXPECT_EQ(out[kMaxRequest - 1], std::byte{0xCD});
}

TEST(Socks5Request, OverlongNameCannotReachTheEncoder) {
  // RFC 1928 §5 gives a name one length octet; Endpoint refuses longer ones,
  // which is what keeps the encoder's length byte honest.
  EXPECT_FALSE(Endpoint::name(std::string(256, 'h'), 80));
}

TEST(Socks5Request, RejectsEmptyEndpoint) {
  std::array<std::byte, kMaxRequest> out{};
  const auto n = encode_request(out, Command::Connect, Endpoint{});
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), Errno{EINVAL});
}

TEST(Socks5Request, ReportsNoBufsForEveryTooSmallBuffer) {
  std::array<std::byte, kMaxRequest> out{};
  for (const Endpoint& ep : {v4(1, 2, 3, 4, 5), v6_fd00_2(5), named("example.test", 5)}) {
    const std::size_t need = *encode_request(out, Command::Connect, ep);
    for (std::size_t size = 0; size < need; ++size) {
      const auto n = encode_request(std::span(out).first(size), Command::Connect, ep);
      ASSERT_FALSE(n) << size;
      EXPECT_EQ(n.error(), Errno{ENOBUFS}) << size;
    }
  }
}

// --- reply, RFC 1928 §6 ---

struct ReplyCase {
  const char* name;
  Bytes address;  // ATYP | ADDR | PORT
  Endpoint expected;
};

std::vector<ReplyCase> reply_cases() {
  return {{"IPv4", kV4Addr, v4(10, 200, 1, 2, 8080)},
          {"IPv6", kV6Addr, v6_fd00_2(443)},
          {"Name", kNameAddr, named("example.test", 80)}};
}

TEST(Socks5Reply, DecodesBoundAddressOfEveryAddressType) {
  for (const auto& c : reply_cases()) {
    const Bytes in = cat({bytes({0x05, 0x00, 0x00}), c.address});
    const auto d = decode_reply(in);
    ASSERT_EQ(d.status, DecodeStatus::Ok) << c.name;
    EXPECT_EQ(d.size, in.size()) << c.name;
    EXPECT_EQ(d.value.code, 0) << c.name;
    EXPECT_EQ(d.value.bound, c.expected) << c.name;
  }
}

TEST(Socks5Reply, ConsumesOnlyTheReplyWhenApplicationBytesFollow) {
  for (const auto& c : reply_cases()) {
    const Bytes reply = cat({bytes({0x05, 0x00, 0x00}), c.address});
    const auto d = decode_reply(cat({reply, text("HTTP/1.1 200 OK\r\n")}));
    ASSERT_EQ(d.status, DecodeStatus::Ok) << c.name;
    EXPECT_EQ(d.size, reply.size()) << c.name;
  }
}

TEST(Socks5Reply, AsksForFiveBytesThenTheExactLengthAtEveryPrefix) {
  for (const auto& c : reply_cases()) {
    const Bytes in = cat({bytes({0x05, 0x00, 0x00}), c.address});
    for (std::size_t k = 0; k < in.size(); ++k) {
      const auto d = decode_reply(prefix(in, k));
      ASSERT_EQ(d.status, DecodeStatus::NeedMore) << c.name << " prefix " << k;
      // 5 bytes reveal the ATYP and a name's length byte; after that the total is known.
      EXPECT_EQ(d.size, k < 5 ? 5u : in.size()) << c.name << " prefix " << k;
      EXPECT_GT(d.size, k);
    }
  }
}

TEST(Socks5Reply, KeepsRefusalCodeForTheCaller) {
  const auto d = decode_reply(cat({bytes({0x05, 0x05, 0x00}), kV4Addr}));
  ASSERT_EQ(d.status, DecodeStatus::Ok);
  EXPECT_EQ(d.value.code, static_cast<std::uint8_t>(ReplyCode::ConnectionRefused));
}

TEST(Socks5Reply, RoundTripsWithRequestEncoderForEveryAddressType) {
  // Request and reply share their layout (RFC 1928 §4, §6): CMD sits where REP does.
  std::array<std::byte, kMaxRequest> out{};
  for (const auto& c : reply_cases()) {
    const auto n = encode_request(out, Command::Connect, c.expected);
    ASSERT_TRUE(n) << c.name;
    const auto d = decode_reply(std::span(out).first(*n));
    ASSERT_EQ(d.status, DecodeStatus::Ok) << c.name;
    EXPECT_EQ(d.size, *n);
    EXPECT_EQ(d.value.bound, c.expected) << c.name;
  }
}

TEST(Socks5Reply, DecodesLongestNameReply) {
  const std::string host(255, 'n');
  const Bytes in = cat({bytes({0x05, 0x00, 0x00, 0x03, 255}), text(host), bytes({0x01, 0x02})});
  ASSERT_EQ(in.size(), kMaxReply);
  const auto d = decode_reply(in);
  ASSERT_EQ(d.status, DecodeStatus::Ok);
  EXPECT_EQ(d.value.bound, named(host, 0x0102));
}

TEST(Socks5Reply, RejectsWrongVersionAsSoonAsItArrives) {
  const Bytes in = cat({bytes({0x04, 0x00, 0x00}), kV4Addr});
  for (std::size_t k = 1; k <= in.size(); ++k) {
    EXPECT_EQ(decode_reply(prefix(in, k)).status, DecodeStatus::Malformed) << k;
  }
}

TEST(Socks5Reply, RejectsNonZeroReservedByte) {
  const Bytes in = cat({bytes({0x05, 0x00, 0x01}), kV4Addr});
  for (std::size_t k = 3; k <= in.size(); ++k) {
    EXPECT_EQ(decode_reply(prefix(in, k)).status, DecodeStatus::Malformed) << k;
  }
}

TEST(Socks5Reply, RejectsUnknownAddressTypes) {
  for (int atyp : {0x00, 0x02, 0x05, 0xFF}) {
    const Bytes in = bytes({0x05, 0x00, 0x00, atyp, 1, 2, 3, 4, 0, 80});
    for (std::size_t k = 4; k <= in.size(); ++k) {
      EXPECT_EQ(decode_reply(prefix(in, k)).status, DecodeStatus::Malformed) << atyp << " " << k;
    }
  }
}

TEST(Socks5Reply, RejectsZeroLengthName) {
  const Bytes in = bytes({0x05, 0x00, 0x00, 0x03, 0x00, 0x00, 0x50});
  EXPECT_EQ(decode_reply(prefix(in, 5)).status, DecodeStatus::Malformed);
  EXPECT_EQ(decode_reply(in).status, DecodeStatus::Malformed);
  EXPECT_EQ(decode_reply(in).size, 0u);
}

// --- UDP header, RFC 1928 §7 ---

TEST(Socks5UdpHeader, EncodesEveryAddressTypeWithZeroReservedAndFrag) {
  std::array<std::byte, kMaxUdpHeader> out{};
  for (const auto& c : reply_cases()) {
    const auto n = encode_udp_header(out, c.expected);
    ASSERT_TRUE(n) << c.name;
    EXPECT_EQ(hex(std::span(out).first(*n)), hex(cat({bytes({0x00, 0x00, 0x00}), c.address})))
        << c.name;
  }
}

TEST(Socks5UdpHeader, HeaderSizesMatchTheRfc) {
  std::array<std::byte, kMaxUdpHeader> out{};
  EXPECT_EQ(*encode_udp_header(out, v4(1, 2, 3, 4, 5)), 10u);
  EXPECT_EQ(*encode_udp_header(out, v6_fd00_2(5)), 22u);
  EXPECT_EQ(*encode_udp_header(out, named("abc", 5)), 7u + 3u);
  EXPECT_EQ(*encode_udp_header(out, named(std::string(255, 'x'), 5)), kMaxUdpHeader);
}

TEST(Socks5UdpHeader, EncoderRejectsEmptyEndpointAndSmallBuffers) {
  std::array<std::byte, kMaxUdpHeader> out{};
  EXPECT_EQ(encode_udp_header(out, Endpoint{}).error(), Errno{EINVAL});
  for (const auto& c : reply_cases()) {
    const std::size_t need = 3 + c.address.size();
    for (std::size_t size = 0; size < need; ++size) {
      const auto n = encode_udp_header(std::span(out).first(size), c.expected);
      ASSERT_FALSE(n) << c.name << " " << size;
      EXPECT_EQ(n.error(), Errno{ENOBUFS});
    }
  }
}

TEST(Socks5UdpHeader, DecodesSourceAndLeavesPayload) {
  for (const auto& c : reply_cases()) {
    const Bytes header = cat({bytes({0x00, 0x00, 0x00}), c.address});
    const auto d = decode_udp_header(cat({header, text("payload")}));
    ASSERT_EQ(d.status, DecodeStatus::Ok) << c.name;
    EXPECT_EQ(d.size, header.size()) << c.name;
    EXPECT_EQ(d.value.frag, 0) << c.name;
    EXPECT_EQ(d.value.address, c.expected) << c.name;
  }
}

TEST(Socks5UdpHeader, ReportsFragmentNumber) {
  const auto d = decode_udp_header(cat({bytes({0x00, 0x00, 0x81}), kV4Addr}));
  ASSERT_EQ(d.status, DecodeStatus::Ok);
  EXPECT_EQ(d.value.frag, 0x81);
}

TEST(Socks5UdpHeader, RoundTripsEveryAddressType) {
  std::array<std::byte, kMaxUdpHeader> out{};
  for (const auto& c : reply_cases()) {
    const auto n = encode_udp_header(out, c.expected);
    ASSERT_TRUE(n);
    const auto d = decode_udp_header(std::span(out).first(*n));
    ASSERT_EQ(d.status, DecodeStatus::Ok) << c.name;
    EXPECT_EQ(d.size, *n);
    EXPECT_EQ(d.value.address, c.expected) << c.name;
  }
}

TEST(Socks5UdpHeader, ShortDatagramIsMalformedAtEveryLength) {
  for (const auto& c : reply_cases()) {
    const Bytes in = cat({bytes({0x00, 0x00, 0x00}), c.address});
    for (std::size_t k = 0; k < in.size(); ++k) {
      const auto d = decode_udp_header(prefix(in, k));
      EXPECT_EQ(d.status, DecodeStatus::Malformed) << c.name << " " << k;
      EXPECT_EQ(d.size, 0u);
    }
  }
}

TEST(Socks5UdpHeader, RejectsNonZeroReservedBytes) {
  EXPECT_EQ(decode_udp_header(cat({bytes({0x01, 0x00, 0x00}), kV4Addr})).status,
            DecodeStatus::Malformed);
  EXPECT_EQ(decode_udp_header(cat({bytes({0x00, 0x01, 0x00}), kV4Addr})).status,
            DecodeStatus::Malformed);
}

TEST(Socks5UdpHeader, RejectsUnknownAddressTypeAndZeroLengthName) {
  for (int atyp : {0x00, 0x02, 0x05, 0xFF}) {
    EXPECT_EQ(decode_udp_header(bytes({0, 0, 0, atyp, 1, 2, 3, 4, 0, 80})).status,
              DecodeStatus::Malformed)
        << atyp;
  }
  EXPECT_EQ(decode_udp_header(bytes({0, 0, 0, 0x03, 0, 0, 80, 'x'})).status,
            DecodeStatus::Malformed);
}

// --- reply codes -> errno and text ---

struct CodeCase {
  std::uint8_t rep;
  int err;
};

void PrintTo(const CodeCase& c, std::ostream* os) {
  *os << "REP " << int{c.rep} << " -> errno " << c.err;
}

std::string code_case_name(const ::testing::TestParamInfo<CodeCase>& p) {
  return "Rep" + std::to_string(p.param.rep);
}

class Socks5ReplyCode : public ::testing::TestWithParam<CodeCase> {};

TEST_P(Socks5ReplyCode, MapsToItsErrnoAndHasText) {
  const auto c = GetParam();
  EXPECT_EQ(reply_errno(c.rep), c.err);
  EXPECT_FALSE(reply_text(c.rep).empty());
}

INSTANTIATE_TEST_SUITE_P(AllAssignedAndSomeUnassigned, Socks5ReplyCode,
                         ::testing::Values(CodeCase{0x00, 0}, CodeCase{0x01, ECONNABORTED},
                                           CodeCase{0x02, EACCES}, CodeCase{0x03, ENETUNREACH},
                                           CodeCase{0x04, EHOSTUNREACH},
                                           CodeCase{0x05, ECONNREFUSED}, CodeCase{0x06, ETIMEDOUT},
                                           CodeCase{0x07, EOPNOTSUPP}, CodeCase{0x08, EAFNOSUPPORT},
                                           CodeCase{0x09, ECONNABORTED},
                                           CodeCase{0x80, ECONNABORTED},
                                           CodeCase{0xFF, ECONNABORTED}),
                         code_case_name);

TEST(Socks5ReplyText, EachAssignedCodeHasItsOwnText) {
  std::set<std::string_view> seen;
  for (std::uint8_t rep = 0; rep <= 0x08; ++rep) seen.insert(reply_text(rep));
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(reply_text(0x05), "connection refused by destination host");
  EXPECT_EQ(reply_text(0x00), "succeeded");
}

TEST(Socks5ReplyText, UnassignedCodesShareOneText) {
  EXPECT_EQ(reply_text(0x09), "unassigned reply code");
  EXPECT_EQ(reply_text(0xFF), reply_text(0x09));
  EXPECT_NE(reply_text(0x09), reply_text(0x01));
}

}  // namespace
}  // namespace socksify::socks5
