#include "http/connect_codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <string>

namespace socksify::http {
namespace {

std::string encode(const Endpoint& dst, std::string_view user = {}, std::string_view pw = {}) {
  std::array<std::byte, kMaxRequest> out{};
  auto n = encode_connect(out, dst, user, pw);
  if (!n) return "error " + std::to_string(n.error().code);
  return std::string(reinterpret_cast<const char*>(out.data()), *n);
}

Parsed parse(std::string_view s, std::size_t limit = kMaxResponse) {
  return parse_response(std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()), limit);
}

const std::array<std::uint8_t, 4> kV4{192, 0, 2, 7};

TEST(HttpEncode, Ipv4WithoutCredentials) {
  EXPECT_EQ(encode(Endpoint::ipv4(kV4, 443)),
            "CONNECT 192.0.2.7:443 HTTP/1.1\r\nHost: 192.0.2.7:443\r\n\r\n");
}

TEST(HttpEncode, Ipv6InBrackets) {
  std::array<std::uint8_t, 16> a{};
  a[0] = 0x20;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[15] = 1;
  EXPECT_EQ(encode(Endpoint::ipv6(a, 80)),
            "CONNECT [2001:db8::1]:80 HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n");
}

TEST(HttpEncode, NameGoesToTheProxy) {
  EXPECT_EQ(encode(*Endpoint::name("example.test", 8443)),
            "CONNECT example.test:8443 HTTP/1.1\r\nHost: example.test:8443\r\n\r\n");
}

TEST(HttpEncode, BasicCredentials) {
  // RFC 7617 §2's own example: Aladdin / open sesame.
  EXPECT_EQ(encode(Endpoint::ipv4(kV4, 1), "Aladdin", "open sesame"),
            "CONNECT 192.0.2.7:1 HTTP/1.1\r\nHost: 192.0.2.7:1\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
  // Every padding length: "u:" (2 bytes), "u:p" (3), "u:pw" (4).
  EXPECT_NE(encode(Endpoint::ipv4(kV4, 1), "u", "").find("Basic dTo=\r\n"), std::string::npos);
  EXPECT_NE(encode(Endpoint::ipv4(kV4, 1), "u", "p").find("Basic dTpw\r\n"), std::string::npos);
  EXPECT_NE(encode(Endpoint::ipv4(kV4, 1), "u", "pw").find("Basic dTpwdw==\r\n"),
            std::string::npos);
}

TEST(HttpEncode, LongestRequestFits) {
  const std::string name(255, 'a');
  const std::string cred(255, 'x');
  const std::string r = encode(*Endpoint::name(name, 65535), cred, cred);
  EXPECT_EQ(r.substr(0, 8), "CONNECT ");
  EXPECT_EQ(r.substr(r.size() - 4), "\r\n\r\n");
  std::array<std::byte, 64> small{};
  EXPECT_EQ(encode_connect(small, *Endpoint::name(name, 1), {}, {}).error().code, ENOBUFS);
}

TEST(HttpEncode, RefusesNamesThatWouldInjectHeaders) {
  for (const char* bad : {"a\r\nX-Evil: 1", "a b", "a/b", "a@b", "a:b", "[a]", "a\x7f"}) {
    EXPECT_EQ(encode(*Endpoint::name(bad, 80)), "error " + std::to_string(EINVAL)) << bad;
  }
  EXPECT_EQ(encode(Endpoint{}), "error " + std::to_string(EINVAL));
}

TEST(HttpParse, TinyproxyAndSquidReplies) {
  const std::string tiny =
      "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n";
  Parsed p = parse(tiny);
  EXPECT_EQ(p.status, ParseStatus::Ok);
  EXPECT_EQ(p.size, tiny.size());
  EXPECT_EQ(p.code, 200);
  p = parse("HTTP/1.1 200 Connection established\r\n\r\n");
  EXPECT_EQ(p.status, ParseStatus::Ok);
  EXPECT_EQ(p.code, 200);
  p = parse("HTTP/1.1 200\r\n\r\n");  // no reason phrase, no space: the shortest
  EXPECT_EQ(p.status, ParseStatus::Ok);
  EXPECT_EQ(p.size, kMinResponse);
}

TEST(HttpParse, StopsAtTheBlankLineWhateverFollows) {
  const std::string head = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
  const Parsed p = parse(head + "SSH-2.0-tunnel bytes\r\n\r\n");
  EXPECT_EQ(p.status, ParseStatus::Ok);
  EXPECT_EQ(p.size, head.size());
}

// Every prefix of a reply asks for more, and for no byte past its end: a reader
// that reads exactly what NeedMore says never takes the tunnel's first byte.
TEST(HttpParse, EveryPrefixNeedsMoreButNeverPastTheEnd) {
  for (const std::string& r : {std::string("HTTP/1.0 200 Connection established\r\nProxy-agent: "
                                           "tinyproxy/1.11.1\r\n\r\n"),
                               std::string("HTTP/1.1 200\r\n\r\n"),
                               std::string("HTTP/1.1 407 Proxy Authentication Required\r\n"
                                           "Proxy-Authenticate: Basic realm=\"x\"\r\n"
                                           "Content-Length: 0\r\n\r\n"),
                               std::string("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n")}) {
    for (std::size_t k = 0; k < r.size(); ++k) {
      const Parsed p = parse(std::string_view(r).substr(0, k));
      ASSERT_EQ(p.status, ParseStatus::NeedMore) << k << " of " << r;
      EXPECT_GT(p.size, k);
      EXPECT_LE(p.size, r.size()) << k << " of " << r;
    }
    EXPECT_EQ(parse(r).status, ParseStatus::Ok) << r;
  }
}

TEST(HttpParse, StatusCodeKnownBeforeTheHeadersEnd) {
  EXPECT_EQ(parse("HTTP/1.1 407 Nope\r\nX: y").code, 407);
}

TEST(HttpParse, GarbageFailsOnItsFirstBytes) {
  EXPECT_EQ(parse("\x05\x00").status, ParseStatus::Malformed);  // a SOCKS5 proxy's answer
  EXPECT_EQ(parse("HTTP/2 200\r\n\r\n").status, ParseStatus::Malformed);
  EXPECT_EQ(parse("HTTP/1.1 2x0 OK\r\n\r\n").status, ParseStatus::Malformed);
  EXPECT_EQ(parse("HTTP/1.1 2000 OK\r\n\r\n").status, ParseStatus::Malformed);
  EXPECT_EQ(parse("http/1.1 200 OK\r\n\r\n").status, ParseStatus::Malformed);
  EXPECT_EQ(parse("<html>").status, ParseStatus::Malformed);
}

TEST(HttpParse, MalformedLines) {
  EXPECT_EQ(parse("HTTP/1.1 200 OK\n\n").status, ParseStatus::Malformed);        // bare LF
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\r\n\r\n").status, ParseStatus::Malformed);  // bare CR
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nno colon\r\n\r\n").status, ParseStatus::Malformed);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n").status, ParseStatus::Malformed);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n").status, ParseStatus::Malformed);
  EXPECT_EQ(parse(std::string_view("HTTP/1.1 200 O\0K\r\n\r\n", 20)).status,
            ParseStatus::Malformed);
  EXPECT_EQ(parse("HTTP/1.1 200 caf\xc3\xa9\r\n\r\n").status, ParseStatus::Ok);  // obs-text
}

TEST(HttpParse, OversizedHeadersAreRefusedNotBuffered) {
  std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxResponse, 'a');
  EXPECT_EQ(parse(big).status, ParseStatus::TooLarge);
  // The read that would reach the limit is capped at it.
  const std::string near = big.substr(0, kMaxResponse - 2);
  const Parsed p = parse(near);
  EXPECT_EQ(p.status, ParseStatus::NeedMore);
  EXPECT_EQ(p.size, kMaxResponse);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nX: 1\r\n\r\n", 20).status, ParseStatus::TooLarge);
}

TEST(HttpStatus, EveryClass) {
  EXPECT_EQ(status_errno(200), 0);
  EXPECT_EQ(status_errno(204), 0);
  EXPECT_EQ(status_errno(407), EACCES);
  EXPECT_EQ(status_errno(403), EACCES);
  EXPECT_EQ(status_errno(401), EACCES);
  EXPECT_EQ(status_errno(405), EOPNOTSUPP);
  EXPECT_EQ(status_errno(501), EOPNOTSUPP);
  EXPECT_EQ(status_errno(502), EHOSTUNREACH);
  EXPECT_EQ(status_errno(503), ECONNREFUSED);
  EXPECT_EQ(status_errno(504), ETIMEDOUT);
  EXPECT_EQ(status_errno(500), ECONNREFUSED);
  EXPECT_EQ(status_errno(400), ECONNREFUSED);
  EXPECT_EQ(status_errno(404), ECONNREFUSED);
  EXPECT_EQ(status_errno(100), EPROTO);
  EXPECT_EQ(status_errno(301), EPROTO);
  EXPECT_EQ(status_errno(600), EPROTO);
  EXPECT_EQ(status_errno(0), EPROTO);
  for (int code : {100, 200, 301, 400, 403, 407, 500, 502, 503, 504, 599, 999}) {
    EXPECT_FALSE(status_text(code).empty());
  }
}

}  // namespace
}  // namespace socksify::http
