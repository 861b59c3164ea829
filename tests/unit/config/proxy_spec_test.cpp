#include "config/proxy_spec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace socksify {
namespace {

ProxySpec parse_ok(std::string_view url) {
  auto r = parse_proxy_url(url);
  EXPECT_TRUE(r.ok()) << url << ": " << (r.ok() ? "" : r.error().text);
  return r.ok() ? *r : ProxySpec{};
}

std::string parse_error(std::string_view url) {
  auto r = parse_proxy_url(url);
  EXPECT_FALSE(r.ok()) << url << " parsed unexpectedly";
  return r.ok() ? "" : r.error().text;
}

TEST(ProxyUrl, ParsesIPv4WithPort) {
  const ProxySpec p = parse_ok("socks5://10.0.0.1:9050");
  EXPECT_FALSE(p.remote_dns);
  EXPECT_EQ(p.host, "10.0.0.1");
  EXPECT_EQ(p.port, 9050);
  EXPECT_TRUE(p.user.empty());
  EXPECT_TRUE(p.password.empty());
}

TEST(ProxyUrl, DefaultsToPort1080) {
  EXPECT_EQ(parse_ok("socks5://proxy.test").port, 1080);
  EXPECT_EQ(parse_ok("socks5://[::1]").port, 1080);
  EXPECT_EQ(parse_ok("socks5://proxy.test/").port, 1080);
}

TEST(ProxyUrl, HttpConnectScheme) {
  const ProxySpec p = parse_ok("HTTP://alice:s%40cret@proxy.test:3128/");
  EXPECT_EQ(p.protocol, ProxyProtocol::Http);
  EXPECT_TRUE(p.remote_dns);  // CONNECT carries the name
  EXPECT_EQ(p.host, "proxy.test");
  EXPECT_EQ(p.port, 3128);
  EXPECT_EQ(p.user, "alice");
  EXPECT_EQ(p.password, "s@cret");
  EXPECT_EQ(p.display(), "http://alice:***@proxy.test:3128");
  EXPECT_EQ(parse_ok("http://[::1]").port, 1080);  // as curl's default for http:// proxies
  EXPECT_EQ(parse_ok("http://[::1]").display(), "http://[::1]:1080");
  EXPECT_EQ(parse_ok("socks5h://h").protocol, ProxyProtocol::Socks5);
  EXPECT_EQ(parse_error("https://h"),
            "unsupported scheme 'https' (use socks5://, socks5h:// or http://)");
}

TEST(ProxyUrl, ParsesBracketedIPv6WithoutBrackets) {
  const ProxySpec p = parse_ok("socks5h://[fd00::2]:1081");
  EXPECT_TRUE(p.remote_dns);
  EXPECT_EQ(p.host, "fd00::2");
  EXPECT_EQ(p.port, 1081);
  EXPECT_EQ(parse_ok("socks5://[::ffff:1.2.3.4]:5").host, "::ffff:1.2.3.4");
}

TEST(ProxyUrl, ParsesHostNames) {
  EXPECT_EQ(parse_ok("socks5://proxy.example.test:1").host, "proxy.example.test");
  EXPECT_EQ(parse_ok("socks5://localhost").host, "localhost");
  EXPECT_EQ(parse_ok("socks5://my_proxy-1.corp").host, "my_proxy-1.corp");
  EXPECT_EQ(parse_ok("socks5://1.example").host, "1.example");
  EXPECT_EQ(parse_ok("socks5://" + std::string(255, 'a')).host.size(), 255u);
}

TEST(ProxyUrl, SchemeChoosesWhereNamesResolve) {
  EXPECT_FALSE(parse_ok("socks5://h").remote_dns);
  EXPECT_TRUE(parse_ok("socks5h://h").remote_dns);
}

TEST(ProxyUrl, SchemeIsCaseInsensitive) {
  EXPECT_FALSE(parse_ok("SOCKS5://h").remote_dns);
  EXPECT_TRUE(parse_ok("Socks5H://h").remote_dns);
}

TEST(ProxyUrl, AcceptsOneTrailingSlash) {
  EXPECT_EQ(parse_ok("socks5://h:1/").port, 1);
  EXPECT_EQ(parse_ok("socks5://[::1]:2/").port, 2);
  EXPECT_EQ(parse_ok("socks5://u:p@h/").host, "h");
}

TEST(ProxyUrl, ParsesUserOnly) {
  const ProxySpec p = parse_ok("socks5://alice@h:1");
  EXPECT_EQ(p.user, "alice");
  EXPECT_TRUE(p.password.empty());
  EXPECT_EQ(parse_ok("socks5://alice:@h").password, "");
}

TEST(ProxyUrl, ParsesUserAndPassword) {
  const ProxySpec p = parse_ok("socks5://alice:s3cret@[::1]:1080");
  EXPECT_EQ(p.user, "alice");
  EXPECT_EQ(p.password, "s3cret");
  EXPECT_EQ(p.host, "::1");
}

TEST(ProxyUrl, PercentDecodesCredentials) {
  const ProxySpec p = parse_ok("socks5://al%69ce%40corp:p%3Aw%2Fd%25%20x@h");
  EXPECT_EQ(p.user, "alice@corp");
  EXPECT_EQ(p.password, "p:w/d% x");
  EXPECT_EQ(parse_ok("socks5://u:%e2%82%AC@h").password, "\xe2\x82\xac");
}

TEST(ProxyUrl, PasswordMayContainRawAtAndSlash) {
  // The last '@' ends the credentials, so a pasted password needs no escaping.
  const ProxySpec p = parse_ok("socks5://u:a@b/c@h:2");
  EXPECT_EQ(p.password, "a@b/c");
  EXPECT_EQ(p.host, "h");
  EXPECT_EQ(p.port, 2);
}

TEST(ProxyUrl, AcceptsCredentialsOf255BytesAndRefuses256) {
  const std::string u255(255, 'u');
  const std::string p255(255, 'p');
  const ProxySpec p = parse_ok("socks5://" + u255 + ":" + p255 + "@h");
  EXPECT_EQ(p.user, u255);
  EXPECT_EQ(p.password, p255);
  EXPECT_EQ(parse_error("socks5://" + std::string(256, 'u') + "@h"),
            "user name longer than 255 bytes (RFC 1929)");
  EXPECT_EQ(parse_error("socks5://u:" + std::string(256, 'p') + "@h"),
            "password longer than 255 bytes (RFC 1929)");
  // The limit is on the decoded bytes: 255 escapes decode to 255 bytes.
  std::string encoded;
  for (int i = 0; i < 255; ++i) encoded += "%41";
  EXPECT_EQ(parse_ok("socks5://u:" + encoded + "@h").password, std::string(255, 'A'));
}

TEST(ProxyUrl, PortBounds) {
  EXPECT_EQ(parse_ok("socks5://h:1").port, 1);
  EXPECT_EQ(parse_ok("socks5://h:65535").port, 65535);
  EXPECT_EQ(parse_error("socks5://h:0"), "port out of range (1..65535)");
  EXPECT_EQ(parse_error("socks5://h:65536"), "port out of range (1..65535)");
  EXPECT_EQ(parse_error("socks5://h:99999999999999999999999"), "port out of range (1..65535)");
}

TEST(ProxyUrl, RejectsUnsupportedScheme) {
  EXPECT_EQ(parse_error("ftp://h:1"),
            "unsupported scheme 'ftp' (use socks5://, socks5h:// or http://)");
  EXPECT_EQ(parse_error("socks4x://h"),
            "unsupported scheme 'socks4x' (use socks5://, socks5h:// or http://)");
  EXPECT_EQ(parse_error("://h"), "invalid scheme (use socks5://, socks5h:// or http://)");
}

TEST(ProxyUrl, RefusesBareHostPortRatherThanGuess) {
  EXPECT_EQ(parse_error("proxy.test:1080"),
            "missing scheme (use socks5://host:port or socks5h://host:port)");
  EXPECT_EQ(parse_error(""), "missing scheme (use socks5://host:port or socks5h://host:port)");
}

TEST(ProxyUrl, RejectsMissingHost) {
  EXPECT_EQ(parse_error("socks5://"), "missing host");
  EXPECT_EQ(parse_error("socks5://:1080"), "missing host");
  EXPECT_EQ(parse_error("socks5://u:p@"), "missing host");
  EXPECT_EQ(parse_error("socks5://u@:1"), "missing host");
  EXPECT_EQ(parse_error("socks5:///"), "missing host");
  EXPECT_EQ(parse_error("socks5://[]:1"), "missing host");
}

TEST(ProxyUrl, RejectsBadIPv6) {
  EXPECT_EQ(parse_error("socks5://[::1"), "unterminated IPv6 bracket");
  EXPECT_EQ(parse_error("socks5://[::1:1080"), "unterminated IPv6 bracket");
  EXPECT_EQ(parse_error("socks5://[zz::1]:1"), "invalid IPv6 address 'zz::1'");
  EXPECT_EQ(parse_error("socks5://[1.2.3.4]"), "invalid IPv6 address '1.2.3.4'");
  EXPECT_EQ(parse_error("socks5://::1"),
            "IPv6 address must be in brackets, e.g. socks5://[::1]:1080");
  EXPECT_EQ(parse_error("socks5://fd00::1:1080"),
            "IPv6 address must be in brackets, e.g. socks5://[::1]:1080");
}

TEST(ProxyUrl, RejectsBadHostNames) {
  EXPECT_EQ(parse_error("socks5://" + std::string(256, 'a')), "host name longer than 255 bytes");
  EXPECT_EQ(parse_error("socks5://pro xy"), "invalid character in host name 'pro xy'");
  EXPECT_EQ(parse_error("socks5://h]:1"), "invalid character in host name 'h]'");
  EXPECT_EQ(parse_error("socks5://1.2.3.999"), "invalid IPv4 address '1.2.3.999'");
  EXPECT_EQ(parse_error("socks5://1.2.3"), "invalid IPv4 address '1.2.3'");
  EXPECT_EQ(parse_error("socks5://."), "empty label in host name '.'");
  EXPECT_EQ(parse_error("socks5://a..b:1"), "empty label in host name 'a..b'");
  EXPECT_EQ(parse_ok("socks5://proxy.test.:1").host, "proxy.test.");
}

TEST(ProxyUrl, RejectsBadPorts) {
  EXPECT_EQ(parse_error("socks5://h:"), "missing port after ':'");
  EXPECT_EQ(parse_error("socks5://h:/"), "missing port after ':'");
  EXPECT_EQ(parse_error("socks5://h:http"), "invalid port (not a number)");
  EXPECT_EQ(parse_error("socks5://h:-1"), "invalid port (not a number)");
  EXPECT_EQ(parse_error("socks5://[::1]:x"), "invalid port (not a number)");
}

TEST(ProxyUrl, RejectsAnythingAfterPortButOneSlash) {
  const std::string why =
      "unexpected text after the host and port (only a trailing '/' is allowed)";
  EXPECT_EQ(parse_error("socks5://h:1/path"), why);
  EXPECT_EQ(parse_error("socks5://h//"), why);
  EXPECT_EQ(parse_error("socks5://[::1]x"), why);
  EXPECT_EQ(parse_error("socks5://h?x=1"), "invalid character in host name 'h?x=1'");
}

TEST(ProxyUrl, RejectsBadCredentials) {
  EXPECT_EQ(parse_error("socks5://@h"), "empty user name before '@'");
  EXPECT_EQ(parse_error("socks5://:pw@h"), "empty user name before '@'");
  EXPECT_EQ(parse_error("socks5://u%4@h"), "invalid percent-encoding in user name");
  EXPECT_EQ(parse_error("socks5://u%zz@h"), "invalid percent-encoding in user name");
  EXPECT_EQ(parse_error("socks5://u:pw%@h"), "invalid percent-encoding in password");
  EXPECT_EQ(parse_error("socks5://u:%g1@h"), "invalid percent-encoding in password");
}

TEST(ProxyUrl, NoErrorMessageContainsThePassword) {
  const std::string secret = "Hunter2Secret";
  const std::string urls[] = {
      "ftp://u:" + secret + "@h",
      "socks5//u:" + secret + "://x@h",
      "socks5://u:" + secret + "@",
      "socks5://u:" + secret + "@[::1",
      "socks5://u:" + secret + "@[zz]",
      "socks5://u:" + secret + "@h:0",
      "socks5://u:" + secret + "@h:x",
      "socks5://u:" + secret + "@h:1/x",
      "socks5://u:" + secret + "@::1",
      "socks5://u:" + secret + "@bad host",
      "socks5://u:" + secret + "%zz@h",
      "socks5://:" + secret + "@h",
      "socks5://u:" + secret + std::string(300, 'x') + "@h",
      "socks5://u:" + secret + "/path",
      "socks5://u:" + secret,  // '@' forgotten: the password is in the port position
      "socks5://u:12345678",   // same, with a numeric password
      secret + "@h:1",
  };
  for (const std::string& url : urls) {
    const std::string why = parse_error(url);
    EXPECT_FALSE(why.empty()) << url;
    EXPECT_EQ(why.find("Hunter2"), std::string::npos) << url << " -> " << why;
    EXPECT_EQ(why.find("12345678"), std::string::npos) << url << " -> " << why;
  }
}

TEST(ProxyDisplay, MasksPasswordAndKeepsTheRest) {
  EXPECT_EQ(parse_ok("socks5h://alice:s3cret@proxy.test:1081").display(),
            "socks5h://alice:***@proxy.test:1081");
  EXPECT_EQ(parse_ok("socks5://alice@proxy.test").display(), "socks5://alice@proxy.test:1080");
  EXPECT_EQ(parse_ok("socks5://10.0.0.1").display(), "socks5://10.0.0.1:1080");
  EXPECT_EQ(parse_ok("SOCKS5://[fd00::1]:9/").display(), "socks5://[fd00::1]:9");
}

TEST(ProxyDisplay, NeverShowsThePasswordEvenWhenItLooksLikeOtherParts) {
  ProxySpec p;
  p.host = "h";
  p.user = "u";
  for (const std::string pw : {"h", "u", "socks5", "***", "1080", "x"}) {
    p.password = pw + "Secret";
    EXPECT_EQ(p.display().find("Secret"), std::string::npos) << pw;
    EXPECT_EQ(p.display(), "socks5://u:***@h:1080");
  }
}

TEST(ProxyDisplay, EscapesUserSoTheOutputParsesBack) {
  const ProxySpec p = parse_ok("socks5://a%40b%3Ac:pw@h:2");
  EXPECT_EQ(p.display(), "socks5://a%40b%3Ac:***@h:2");
  const ProxySpec back = parse_ok(p.display());
  EXPECT_EQ(back.user, p.user);
  EXPECT_EQ(back.host, p.host);
  EXPECT_EQ(back.port, p.port);
}

}  // namespace
}  // namespace socksify

namespace socksify {
namespace {

TEST(ProxyUrlSocks4, SchemesChooseProtocolAndWhereNamesResolve) {
  auto four = parse_proxy_url("socks4://fred@10.0.0.1");
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(four->protocol, ProxyProtocol::Socks4);
  EXPECT_FALSE(four->remote_dns);
  EXPECT_EQ(four->user, "fred");
  EXPECT_EQ(four->port, 1080);
  EXPECT_EQ(four->display(), "socks4://fred@10.0.0.1:1080");
  auto four_a = parse_proxy_url("SOCKS4A://proxy.test:1081/");
  ASSERT_TRUE(four_a.ok());
  EXPECT_EQ(four_a->protocol, ProxyProtocol::Socks4a);
  EXPECT_TRUE(four_a->remote_dns);
  EXPECT_EQ(four_a->display(), "socks4a://proxy.test:1081");
  EXPECT_EQ(parse_proxy_url("socks5h://h")->protocol, ProxyProtocol::Socks5);
}

TEST(ProxyUrlSocks4, PasswordIsRefusedWithoutQuotingIt) {
  for (const char* url : {"socks4://fred:s3cret@h", "socks4a://fred:s3cret@h:1"}) {
    auto r = parse_proxy_url(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().text, "SOCKS4 has no password: give only a user id (socks4://user@host)");
  }
}

}  // namespace
}  // namespace socksify
