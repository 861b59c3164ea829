// The hosts file's answer to a reverse lookup, as glibc's files source gives it.
#include "dns/hosts_reverse.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>

namespace socksify {
namespace {

std::array<std::uint8_t, 4> v4(const char* text) {
  std::array<std::uint8_t, 4> b{};
  EXPECT_EQ(inet_pton(AF_INET, text, b.data()), 1);
  return b;
}

std::array<std::uint8_t, 16> v6(const char* text) {
  std::array<std::uint8_t, 16> b{};
  EXPECT_EQ(inet_pton(AF_INET6, text, b.data()), 1);
  return b;
}

constexpr std::string_view kHosts =
    "# comment 10.0.0.1 commented\n"
    "127.0.0.1\tlocalhost\n"
    "::1 localhost ip6-localhost\n"
    "10.0.0.1   first.test alias.test # trailing comment\n"
    "10.0.0.1 second.test\n"
    "not-an-address bogus.test\n"
    "10.0.0.2\n"
    "  fd00::5   six.test\r\n"
    "10.0.0.3 last.test";  // no final newline

TEST(HostsNameFor, TheFirstLineListingTheAddressGivesItsCanonicalName) {
  EXPECT_EQ(hosts_name_for(kHosts, v4("127.0.0.1")), "localhost");
  EXPECT_EQ(hosts_name_for(kHosts, v4("10.0.0.1")), "first.test");
  EXPECT_EQ(hosts_name_for(kHosts, v6("::1")), "localhost");
  EXPECT_EQ(hosts_name_for(kHosts, v6("fd00::5")), "six.test");
  EXPECT_EQ(hosts_name_for(kHosts, v4("10.0.0.3")), "last.test");
}

TEST(HostsNameFor, UnlistedAddressesCommentsAndLinesWithoutANameGiveNothing) {
  EXPECT_EQ(hosts_name_for(kHosts, v4("10.0.0.2")), std::nullopt);  // no name on its line
  EXPECT_EQ(hosts_name_for(kHosts, v4("10.9.9.9")), std::nullopt);
  EXPECT_EQ(hosts_name_for(kHosts, v6("fd00::6")), std::nullopt);
  EXPECT_EQ(hosts_name_for("", v4("127.0.0.1")), std::nullopt);
  const std::uint8_t odd[5] = {};
  EXPECT_EQ(hosts_name_for(kHosts, odd), std::nullopt);
}

}  // namespace
}  // namespace socksify
