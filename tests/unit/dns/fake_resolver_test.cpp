#include "dns/fake_resolver.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "dns/name_table.hpp"
#include "test_cidr.hpp"

namespace socksify {
namespace {

using testing::cidr;

const Cidr kV4 = cidr(AF_INET, "240.0.0.0", 4);
const Cidr kV6 = cidr(AF_INET6, "100::", 64);

// A services database of our own, so the tests do not read /etc/services.
std::optional<std::uint16_t> test_port_of(const char* name, const char* proto) noexcept {
  const std::string_view n(name), p(proto);
  if (n == "http" && p == "tcp") return 80;  // tcp only, as in Debian's file
  if (n == "domain") return 53;              // tcp and udp
  return std::nullopt;
}
int test_name_of(std::uint16_t port, const char* proto, std::span<char> out) noexcept {
  std::string_view name;
  if (port == 80 && std::string_view(proto) == "tcp") name = "http";
  if (port == 53) name = "domain";
  if (name.empty()) return -1;
  if (name.size() < out.size()) std::memcpy(out.data(), name.data(), name.size() + 1);
  return static_cast<int>(name.size());
}
const ServiceDb kServices{test_port_of, test_name_of};

addrinfo hints_of(int family, int socktype = 0, int protocol = 0, int flags = 0) {
  addrinfo h{};
  h.ai_family = family;
  h.ai_socktype = socktype;
  h.ai_protocol = protocol;
  h.ai_flags = flags;
  return h;
}

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(in6->sin6_port));
}

// One line per entry: "address socktype/protocol flags=..".
std::vector<std::string> describe(const addrinfo* list, bool with_address = true) {
  std::vector<std::string> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    std::string line = with_address ? address_text(ai->ai_addr) + " " : "";
    line += std::to_string(ai->ai_socktype) + "/" + std::to_string(ai->ai_protocol) +
            " flags=" + std::to_string(ai->ai_flags);
    if (!with_address) {
      // The port alone, to compare with glibc's answer for another address.
      line +=
          " port=" + std::to_string(ntohs(reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_port));
    }
    out.push_back(line);
  }
  return out;
}

struct Answer {
  int rc = 0;
  std::vector<std::string> entries;
};

Answer fake(NameTable& t, const char* node, const char* service, const addrinfo* hints) {
  addrinfo* res = nullptr;
  Answer a;
  a.rc = fake_getaddrinfo(t, node, service, hints, &res, kServices);
  a.entries = describe(res);
  EXPECT_TRUE(a.rc == 0 || res == nullptr);
  fake_freeaddrinfo(res);
  return a;
}

// ---- getaddrinfo: families ------------------------------------------------------

TEST(FakeGetaddrinfo, UnspecifiedGivesOneAddressIPv4) {
  // A second address would lead to the same name at the same proxy: a program
  // falling back to it would only repeat a failure.
  NameTable t(kV4, kV6, 100);
  const addrinfo h = hints_of(AF_UNSPEC, SOCK_STREAM);
  const Answer a = fake(t, "example.test", "443", &h);
  ASSERT_EQ(a.rc, 0);
  EXPECT_EQ(a.entries, (std::vector<std::string>{"240.0.0.1:443 1/6 flags=0"}));
  NameTable v6_only(Cidr{}, kV6, 100);
  EXPECT_EQ(fake(v6_only, "example.test", "443", &h).entries,
            (std::vector<std::string>{"[100::1]:443 1/6 flags=0"}));
}

TEST(FakeGetaddrinfo, TheSameNameGetsTheSameAddressesInAnyCase) {
  NameTable t(kV4, kV6, 100);
  const addrinfo h = hints_of(AF_INET, SOCK_STREAM);
  fake(t, "first.test", "80", &h);
  EXPECT_EQ(fake(t, "Second.Test", "80", &h).entries[0], "240.0.0.2:80 1/6 flags=0");
  EXPECT_EQ(fake(t, "SECOND.test", "80", &h).entries[0], "240.0.0.2:80 1/6 flags=0");
  auto ep = t.endpoint_for(std::array<std::uint8_t, 4>{240, 0, 0, 2}, 80);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->host_name(), "second.test");
}

TEST(FakeGetaddrinfo, OneFamilyWhenAsked) {
  NameTable t(kV4, kV6, 100);
  addrinfo h = hints_of(AF_INET, SOCK_DGRAM);
  EXPECT_EQ(fake(t, "a.test", "53", &h).entries,
            (std::vector<std::string>{"240.0.0.1:53 2/17 flags=0"}));
  h = hints_of(AF_INET6, SOCK_DGRAM);
  EXPECT_EQ(fake(t, "a.test", "53", &h).entries,
            (std::vector<std::string>{"[100::1]:53 2/17 flags=0"}));
}

TEST(FakeGetaddrinfo, V4MappedOnlyWithoutAnIPv6RangeOrWithAll) {
  NameTable t(kV4, kV6, 100);
  addrinfo h = hints_of(AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED);
  EXPECT_EQ(fake(t, "a.test", "1", &h).entries,
            (std::vector<std::string>{"[100::1]:1 1/6 flags=8"}));
  h.ai_flags = AI_V4MAPPED | AI_ALL;
  EXPECT_EQ(
      fake(t, "a.test", "1", &h).entries,
      (std::vector<std::string>{"[100::1]:1 1/6 flags=24", "[::ffff:240.0.0.1]:1 1/6 flags=24"}));
  // The mapped address maps back to the name as well.
  std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 240, 0, 0, 1};
  ASSERT_TRUE(t.endpoint_for(mapped, 1));

  NameTable v4_only(kV4, Cidr{}, 100);
  h.ai_flags = AI_V4MAPPED;
  EXPECT_EQ(fake(v4_only, "a.test", "1", &h).entries,
            (std::vector<std::string>{"[::ffff:240.0.0.1]:1 1/6 flags=8"}));
  h.ai_flags = 0;
  EXPECT_EQ(fake(v4_only, "a.test", "1", &h).rc, EAI_NODATA);
  h = hints_of(AF_UNSPEC, SOCK_STREAM);
  EXPECT_EQ(fake(v4_only, "a.test", "1", &h).entries.size(), 1u);

  NameTable v6_only(Cidr{}, kV6, 100);
  h = hints_of(AF_INET, SOCK_STREAM);
  EXPECT_EQ(fake(v6_only, "a.test", "1", &h).rc, EAI_NODATA);
}

TEST(FakeGetaddrinfo, AddrconfigIsIgnoredBecauseTheProxyReachesTheName) {
  NameTable t(kV4, kV6, 100);
  const addrinfo h = hints_of(AF_UNSPEC, SOCK_STREAM, 0, AI_ADDRCONFIG);
  EXPECT_EQ(fake(t, "a.test", "80", &h).entries.size(), 1u);
  const addrinfo h6 = hints_of(AF_INET6, SOCK_STREAM, 0, AI_ADDRCONFIG);
  EXPECT_EQ(fake(t, "a.test", "80", &h6).entries.size(), 1u);
}

TEST(FakeGetaddrinfo, ATableWithoutCapacityFails) {
  NameTable t(cidr(AF_INET, "10.0.0.0", 31), kV6, 100);
  const addrinfo h = hints_of(AF_UNSPEC, SOCK_STREAM);
  EXPECT_EQ(fake(t, "a.test", "80", &h).rc, EAI_FAIL);
}

// ---- getaddrinfo: the shape glibc gives ------------------------------------------

// glibc's answer for 127.0.0.1 and ours for a name, minus the addresses: the
// entries for each address must have the same types, protocols, ports, flags.
struct ShapeCase {
  const char* label;
  bool null_hints;
  int socktype, protocol, flags;
  const char* service;
};

TEST(FakeGetaddrinfo, ListsTheSameSocketTypesAsGlibc) {
  const ShapeCase cases[] = {
      {"hints NULL, no service", true, 0, 0, 0, nullptr},
      {"hints NULL, numeric service", true, 0, 0, 0, "8080"},
      {"all zero", false, 0, 0, 0, "80"},
      {"stream", false, SOCK_STREAM, 0, 0, "80"},
      {"dgram", false, SOCK_DGRAM, 0, 0, "80"},
      {"raw", false, SOCK_RAW, 0, 0, nullptr},
      {"raw with a protocol", false, SOCK_RAW, IPPROTO_UDP, 0, nullptr},
      {"protocol udp only", false, 0, IPPROTO_UDP, 0, "80"},
      {"protocol tcp only", false, 0, IPPROTO_TCP, 0, "80"},
      {"unknown protocol means raw", false, 0, 99, 0, nullptr},
      {"sctp stream", false, SOCK_STREAM, IPPROTO_SCTP, 0, "80"},
      {"sctp alone is a stream", false, 0, IPPROTO_SCTP, 0, nullptr},
      {"seqpacket", false, SOCK_SEQPACKET, 0, 0, "80"},
      {"dccp", false, SOCK_DCCP, 0, 0, "80"},
      {"udplite", false, SOCK_DGRAM, IPPROTO_UDPLITE, 0, "80"},
      {"empty service is port 0", false, SOCK_STREAM, 0, 0, ""},
      {"flags are echoed", false, SOCK_STREAM, 0, AI_ADDRCONFIG | AI_NUMERICSERV, "80"},
  };
  for (const ShapeCase& c : cases) {
    SCOPED_TRACE(c.label);
    const addrinfo h = hints_of(AF_INET, c.socktype, c.protocol, c.flags);
    addrinfo* real = nullptr;
    ASSERT_EQ(getaddrinfo("127.0.0.1", c.service, c.null_hints ? nullptr : &h, &real), 0);
    NameTable t(kV4, kV6, 100);
    addrinfo* ours = nullptr;
    ASSERT_EQ(
        fake_getaddrinfo(t, "shape.test", c.service, c.null_hints ? nullptr : &h, &ours, kServices),
        0);
    // One address (IPv4, as for AF_UNSPEC): entries must match glibc's one by one.
    const std::vector<std::string> expected = describe(real, false);
    const std::vector<std::string> got = describe(ours, false);
    EXPECT_EQ(got, expected);
    freeaddrinfo(real);
    fake_freeaddrinfo(ours);
  }
}

struct ErrorCase {
  const char* label;
  int family, socktype, protocol, flags;
  const char* service;
};

TEST(FakeGetaddrinfo, RefusesBadHintsWithTheCodesGlibcUses) {
  const ErrorCase cases[] = {
      {"unknown flag", AF_UNSPEC, 0, 0, 0x800, nullptr},
      {"AF_UNIX", AF_UNIX, 0, 0, 0, nullptr},
      {"family 99", 99, 0, 0, 0, nullptr},
      {"socktype 99", AF_UNSPEC, 99, 0, 0, nullptr},
      {"socktype with SOCK_NONBLOCK", AF_UNSPEC, SOCK_STREAM | SOCK_NONBLOCK, 0, 0, nullptr},
      {"stream over udp", AF_UNSPEC, SOCK_STREAM, IPPROTO_UDP, 0, nullptr},
      {"raw with a port", AF_UNSPEC, SOCK_RAW, 0, 0, "80"},
      {"unknown protocol with a port", AF_UNSPEC, 0, 99, 0, "80"},
      {"numericserv with a name", AF_UNSPEC, 0, 0, AI_NUMERICSERV, "http"},
      {"unknown service", AF_UNSPEC, 0, 0, 0, "no-such-service"},
      {"negative port", AF_UNSPEC, SOCK_STREAM, 0, 0, "-1"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.label);
    const addrinfo h = hints_of(c.family, c.socktype, c.protocol, c.flags);
    addrinfo* real = nullptr;
    const int expected = getaddrinfo("127.0.0.1", c.service, &h, &real);
    if (real != nullptr) freeaddrinfo(real);
    ASSERT_NE(expected, 0);
    NameTable t(kV4, kV6, 100);
    EXPECT_EQ(fake(t, "a.test", c.service, &h).rc, expected);
    // Refused before the table was touched: the next name still gets slot 0.
    std::array<std::uint8_t, 4> a{};
    ASSERT_TRUE(t.address_for("probe.test", AF_INET, a));
    EXPECT_EQ(a[3], 1);
  }
}

TEST(FakeGetaddrinfo, RefusesPortsAboveTheRangeWhereGlibcWraps) {
  NameTable t(kV4, kV6, 100);
  const addrinfo h = hints_of(AF_INET, SOCK_STREAM);
  EXPECT_EQ(fake(t, "a.test", "70000", &h).rc, EAI_SERVICE);
  EXPECT_EQ(fake(t, "a.test", "65535", &h).entries[0], "240.0.0.1:65535 1/6 flags=0");
}

// ---- getaddrinfo: services, names, canonname -------------------------------------

TEST(FakeGetaddrinfo, NamedServicesAreLookedUpPerProtocol) {
  NameTable t(kV4, kV6, 100);
  const addrinfo inet = hints_of(AF_INET);
  EXPECT_EQ(fake(t, "a.test", "http", &inet).entries,
            (std::vector<std::string>{"240.0.0.1:80 1/6 flags=0"}));
  EXPECT_EQ(fake(t, "a.test", "domain", &inet).entries,
            (std::vector<std::string>{"240.0.0.1:53 1/6 flags=0", "240.0.0.1:53 2/17 flags=0"}));
  const addrinfo dgram = hints_of(AF_INET, SOCK_DGRAM);
  EXPECT_EQ(fake(t, "a.test", "http", &dgram).rc, EAI_SERVICE);
  const addrinfo udplite = hints_of(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
  EXPECT_EQ(fake(t, "a.test", "domain", &udplite).rc, EAI_SERVICE);
  // hints == NULL: AF_UNSPEC (one address), stream only.
  EXPECT_EQ(fake(t, "a.test", "http", nullptr).entries,
            (std::vector<std::string>{"240.0.0.1:80 1/6 flags=40"}));
}

TEST(FakeGetaddrinfo, SystemServicesReadTheServicesDatabase) {
  servent entry;
  servent* found = nullptr;
  char buf[4096];
  if (getservbyname_r("ssh", "tcp", &entry, buf, sizeof buf, &found) != 0 || found == nullptr) {
    GTEST_SKIP() << "no ssh/tcp in this system's services database";
  }
  EXPECT_EQ(system_services().port_of("ssh", "tcp"), 22);
  EXPECT_EQ(system_services().port_of("no-such-service", "tcp"), std::nullopt);
  char name[16];
  EXPECT_EQ(system_services().name_of(22, "tcp", std::span<char>(name)), 3);
  EXPECT_STREQ(name, "ssh");
  EXPECT_EQ(system_services().name_of(22, "tcp", std::span<char>(name, 3)), 3);  // no room
}

TEST(FakeGetaddrinfo, CanonNameIsTheNameAsGivenOnTheFirstEntryOnly) {
  NameTable t(kV4, kV6, 100);
  const addrinfo h = hints_of(AF_UNSPEC, 0, 0, AI_CANONNAME);
  addrinfo* res = nullptr;
  ASSERT_EQ(fake_getaddrinfo(t, "Mixed.Case.test", "80", &h, &res, kServices), 0);
  ASSERT_NE(res->ai_canonname, nullptr);
  EXPECT_STREQ(res->ai_canonname, "Mixed.Case.test");
  for (addrinfo* ai = res->ai_next; ai != nullptr; ai = ai->ai_next) {
    EXPECT_EQ(ai->ai_canonname, nullptr);
  }
  fake_freeaddrinfo(res);
}

TEST(FakeGetaddrinfo, RefusesNamesThatCannotBeSentToTheProxy) {
  NameTable t(kV4, kV6, 100);
  const addrinfo h = hints_of(AF_UNSPEC, SOCK_STREAM);
  EXPECT_EQ(fake(t, std::string(256, 'a').c_str(), "80", &h).rc, EAI_NONAME);
  EXPECT_EQ(fake(t, std::string(255, 'a').c_str(), "80", &h).rc, 0);
  EXPECT_EQ(fake(t, "", "80", &h).rc, EAI_NONAME);
  EXPECT_EQ(fake(t, nullptr, "80", &h).rc, EAI_NONAME);
  EXPECT_EQ(fake(t, "a b.test", "80", &h).rc, EAI_NONAME);
  EXPECT_EQ(fake(t, "a\n.test", "80", &h).rc, EAI_NONAME);
  const addrinfo numeric = hints_of(AF_UNSPEC, SOCK_STREAM, 0, AI_NUMERICHOST);
  EXPECT_EQ(fake(t, "a.test", "80", &numeric).rc, EAI_NONAME);
  // UTF-8 goes to the proxy as given.
  EXPECT_EQ(fake(t,
                 "b\xc3\xbc"
                 "cher.test",
                 "80", &h)
                .rc,
            0);
  addrinfo sentinel{};
  addrinfo* untouched = &sentinel;
  EXPECT_EQ(fake_getaddrinfo(t, "a.test", "80", &h, nullptr, kServices), EAI_FAIL);
  EXPECT_EQ(fake_getaddrinfo(t, "", "80", &h, &untouched, kServices), EAI_NONAME);
  EXPECT_EQ(untouched, nullptr);
}

// ---- getaddrinfo: memory ----------------------------------------------------------

TEST(FakeGetaddrinfo, ListsAreRecognisedAndFreedByEitherFreeaddrinfo) {
  NameTable t(kV4, kV6, 100);
  const addrinfo h = hints_of(AF_UNSPEC, 0, 0, AI_CANONNAME);
  addrinfo* ours = nullptr;
  ASSERT_EQ(fake_getaddrinfo(t, "a.test", "80", &h, &ours, kServices), 0);
  for (addrinfo* ai = ours; ai != nullptr; ai = ai->ai_next) EXPECT_TRUE(is_fake_addrinfo(ai));
  fake_freeaddrinfo(ours);

  addrinfo* real = nullptr;
  ASSERT_EQ(getaddrinfo("127.0.0.1", "80", nullptr, &real), 0);
  EXPECT_FALSE(is_fake_addrinfo(real));
  freeaddrinfo(real);
  addrinfo on_stack{};
  EXPECT_FALSE(is_fake_addrinfo(&on_stack));
  EXPECT_FALSE(is_fake_addrinfo(nullptr));
  fake_freeaddrinfo(nullptr);

  // A program may reorder the list before freeing it, and the hook may then
  // route it to libc: glibc's freeaddrinfo must free our entries (the
  // sanitizer build checks nothing leaks or is freed wrongly).
  ASSERT_EQ(fake_getaddrinfo(t, "b.test", "80", &h, &ours, kServices), 0);
  addrinfo* second = ours->ai_next;
  ours->ai_next = nullptr;
  addrinfo* last = second;
  while (last->ai_next != nullptr) last = last->ai_next;
  last->ai_next = ours;
  freeaddrinfo(second);
}

// ---- gethostbyname ----------------------------------------------------------------

TEST(FakeGethostbyname, FillsTheNameAndOneAddress) {
  NameTable t(kV4, kV6, 100);
  hostent he{};
  hostent* result = nullptr;
  char buf[512];
  int herr = -5;
  ASSERT_EQ(
      fake_gethostbyname_r(t, "Www.Example.test", AF_INET, &he, buf, sizeof buf, &result, &herr),
      0);
  ASSERT_EQ(result, &he);
  EXPECT_EQ(herr, NETDB_SUCCESS);
  EXPECT_STREQ(he.h_name, "Www.Example.test");
  EXPECT_EQ(he.h_aliases[0], nullptr);
  EXPECT_EQ(he.h_addrtype, AF_INET);
  EXPECT_EQ(he.h_length, 4);
  ASSERT_NE(he.h_addr_list[0], nullptr);
  EXPECT_EQ(he.h_addr_list[1], nullptr);
  EXPECT_EQ(0, std::memcmp(he.h_addr_list[0], "\xf0\x00\x00\x01", 4));

  ASSERT_EQ(fake_gethostbyname_r(t, "www.example.test", AF_INET6, &he, buf + 1, sizeof buf - 1,
                                 &result, &herr),
            0);  // a misaligned buffer is fine
  EXPECT_EQ(he.h_length, 16);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(he.h_addr_list) % alignof(char*), 0u);
  char text[INET6_ADDRSTRLEN];
  EXPECT_STREQ(inet_ntop(AF_INET6, he.h_addr_list[0], text, sizeof text), "100::1");
}

TEST(FakeGethostbyname, ReportsErangeLikeGlibcWithoutTouchingTheTable) {
  // glibc's answer to a buffer too small, for reference.
  hostent he{};
  hostent* result = &he;
  char buf[512];
  int glibc_herr = 0;
  const int glibc_rc = gethostbyname2_r("127.0.0.1", AF_INET, &he, buf, 4, &result, &glibc_herr);
  ASSERT_EQ(glibc_rc, ERANGE);

  NameTable t(kV4, kV6, 100);
  std::size_t needed = 0;
  for (std::size_t len = 0; len < sizeof buf; ++len) {
    int herr = 0;
    result = &he;
    const int rc = fake_gethostbyname_r(t, "a.test", AF_INET, &he, buf, len, &result, &herr);
    if (rc == 0) {
      needed = len;
      break;
    }
    EXPECT_EQ(rc, glibc_rc);
    EXPECT_EQ(herr, glibc_herr);
    EXPECT_EQ(result, nullptr);
    // Nothing claimed yet: no address was handed out.
    EXPECT_FALSE(t.endpoint_for(std::array<std::uint8_t, 4>{240, 0, 0, 1}, 0));
  }
  EXPECT_EQ(needed, 3 * sizeof(char*) + 4 + std::strlen("a.test") + 1);
}

TEST(FakeGethostbyname, RefusesBadFamiliesAndNames) {
  NameTable t(kV4, kV6, 100);
  hostent he{};
  hostent* result = &he;
  char buf[512];
  int herr = 0;
  EXPECT_EQ(fake_gethostbyname_r(t, "a.test", AF_UNIX, &he, buf, sizeof buf, &result, &herr),
            EAFNOSUPPORT);
  EXPECT_EQ(herr, NETDB_INTERNAL);
  EXPECT_EQ(result, nullptr);
  for (const char* bad : {"", "a b", static_cast<const char*>(nullptr)}) {
    result = &he;
    EXPECT_EQ(fake_gethostbyname_r(t, bad, AF_INET, &he, buf, sizeof buf, &result, &herr), 0);
    EXPECT_EQ(herr, HOST_NOT_FOUND);
    EXPECT_EQ(result, nullptr);
  }
  const std::string too_long(256, 'a');
  EXPECT_EQ(
      fake_gethostbyname_r(t, too_long.c_str(), AF_INET, &he, buf, sizeof buf, &result, &herr), 0);
  EXPECT_EQ(herr, HOST_NOT_FOUND);

  NameTable v4_only(kV4, Cidr{}, 100);
  EXPECT_EQ(fake_gethostbyname_r(v4_only, "a.test", AF_INET6, &he, buf, sizeof buf, &result, &herr),
            0);
  EXPECT_EQ(herr, NO_DATA);
  EXPECT_EQ(result, nullptr);
}

TEST(FakeGethostbyname, TheThreadLocalStorageAlwaysSuffices) {
  NameTable t(kV4, kV6, 100);
  FakeHostentStorage storage;
  hostent* result = nullptr;
  int herr = 0;
  const std::string longest(255, 'x');
  ASSERT_EQ(fake_gethostbyname_r(t, longest.c_str(), AF_INET6, &storage.ent, storage.buf,
                                 sizeof storage.buf, &result, &herr),
            0);
  EXPECT_EQ(std::string(storage.ent.h_name), longest);
  bool handled = false;
  ASSERT_EQ(fake_gethostbyaddr_r(t, storage.ent.h_addr_list[0], 16, AF_INET6, &storage.ent,
                                 storage.buf, sizeof storage.buf, &result, &herr, &handled),
            0);
  EXPECT_TRUE(handled);
  EXPECT_EQ(std::string(storage.ent.h_name), longest);
}

// ---- reverse --------------------------------------------------------------------------

sockaddr_storage sockaddr_of(const char* text, std::uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  Endpoint ep;
  std::array<std::uint8_t, 16> bytes{};
  if (inet_pton(AF_INET, text, bytes.data()) == 1) {
    ep = Endpoint::ipv4(std::span<const std::uint8_t, 4>(bytes.data(), 4), port);
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, bytes.data()), 1) << text;
    ep = Endpoint::ipv6(bytes, port);
  }
  *len = ep.to_sockaddr(ss);
  return ss;
}

struct Reverse {
  int rc;
  bool handled;
  std::string host, serv;
};

Reverse reverse(const NameTable& t, const char* addr, std::uint16_t port, int flags,
                socklen_t hostlen = 256, socklen_t servlen = 32) {
  socklen_t len = 0;
  const sockaddr_storage ss = sockaddr_of(addr, port, &len);
  char host[256] = "(unset)";
  char serv[32] = "(unset)";
  Reverse r{};
  r.rc = fake_getnameinfo(t, reinterpret_cast<const sockaddr*>(&ss), len, host, hostlen, serv,
                          servlen, flags, &r.handled, kServices);
  r.host = host;
  r.serv = serv;
  return r;
}

TEST(FakeGetnameinfo, MapsFakeAddressesBackToTheirNames) {
  NameTable t(kV4, kV6, 100);
  std::array<std::uint8_t, 4> a{};
  ASSERT_TRUE(t.address_for("site.test", AF_INET, a));
  Reverse r = reverse(t, "240.0.0.1", 80, 0);
  EXPECT_TRUE(r.handled);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.host, "site.test");
  EXPECT_EQ(r.serv, "http");
  EXPECT_EQ(reverse(t, "100::1", 53, NI_DGRAM).host, "site.test");
  EXPECT_EQ(reverse(t, "100::1", 53, NI_DGRAM).serv, "domain");
  EXPECT_EQ(reverse(t, "::ffff:240.0.0.1", 80, NI_NAMEREQD).host, "site.test");
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, NI_NUMERICSERV).serv, "80");
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, NI_DGRAM).serv, "80");  // http is tcp only
  EXPECT_EQ(reverse(t, "240.0.0.1", 8080, 0).serv, "8080");
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, NI_NOFQDN).host, "site.test");
}

TEST(FakeGetnameinfo, NumericHostGivesTheFakeAddress) {
  NameTable t(kV4, kV6, 100);
  std::array<std::uint8_t, 4> a{};
  ASSERT_TRUE(t.address_for("site.test", AF_INET, a));
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, NI_NUMERICHOST).host, "240.0.0.1");
  EXPECT_EQ(reverse(t, "::ffff:240.0.0.1", 80, NI_NUMERICHOST).host, "::ffff:240.0.0.1");
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, NI_NUMERICHOST | NI_NAMEREQD).rc, EAI_NONAME);

  socklen_t len = 0;
  sockaddr_storage ss = sockaddr_of("100::1", 80, &len);
  reinterpret_cast<sockaddr_in6*>(&ss)->sin6_scope_id = 3;
  char host[64];
  bool handled = false;
  ASSERT_EQ(fake_getnameinfo(t, reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr,
                             0, NI_NUMERICHOST, &handled, kServices),
            0);
  EXPECT_STREQ(host, "100::1%3");  // as glibc writes a numeric scope
}

TEST(FakeGetnameinfo, UnassignedFakeAddressesAreAnsweredLocally) {
  NameTable t(kV4, kV6, 100);
  Reverse r = reverse(t, "240.0.0.7", 80, 0);
  EXPECT_TRUE(r.handled);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.host, "240.0.0.7");
  r = reverse(t, "240.0.0.7", 80, NI_NAMEREQD);
  EXPECT_TRUE(r.handled);
  EXPECT_EQ(r.rc, EAI_NONAME);
}

TEST(FakeGetnameinfo, LeavesOtherAddressesToLibc) {
  NameTable t(kV4, kV6, 100);
  EXPECT_FALSE(reverse(t, "10.0.0.1", 80, 0).handled);
  EXPECT_FALSE(reverse(t, "2001:db8::1", 80, 0).handled);
  EXPECT_FALSE(reverse(t, "::ffff:10.0.0.1", 80, 0).handled);
  socklen_t len = 0;
  const sockaddr_storage ss = sockaddr_of("240.0.0.1", 80, &len);
  char host[64];
  bool handled = true;
  fake_getnameinfo(t, reinterpret_cast<const sockaddr*>(&ss), len - 1, host, sizeof host, nullptr,
                   0, 0, &handled, kServices);
  EXPECT_FALSE(handled);  // a short sockaddr: libc reports EAI_FAMILY
  sockaddr un{};
  un.sa_family = AF_UNIX;
  handled = true;
  fake_getnameinfo(t, &un, sizeof un, host, sizeof host, nullptr, 0, 0, &handled, kServices);
  EXPECT_FALSE(handled);
  handled = true;
  fake_getnameinfo(t, nullptr, 0, host, sizeof host, nullptr, 0, 0, &handled, kServices);
  EXPECT_FALSE(handled);
}

TEST(FakeGetnameinfo, ReportsOverflowAndBadFlags) {
  NameTable t(kV4, kV6, 100);
  std::array<std::uint8_t, 4> a{};
  ASSERT_TRUE(t.address_for("site.test", AF_INET, a));  // 9 bytes
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, 0, 9).rc, EAI_OVERFLOW);
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, 0, 10).host, "site.test");
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, NI_NUMERICHOST, 9).rc, EAI_OVERFLOW);
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, 0, 10, 4).rc, EAI_OVERFLOW);  // "http"
  EXPECT_EQ(reverse(t, "240.0.0.1", 80, 0, 10, 5).serv, "http");
  EXPECT_EQ(reverse(t, "240.0.0.1", 8080, 0, 10, 4).rc, EAI_OVERFLOW);
  Reverse r = reverse(t, "240.0.0.1", 80, 0x100);
  EXPECT_TRUE(r.handled);
  EXPECT_EQ(r.rc, EAI_BADFLAGS);
  // Zero lengths mean "not asked for", as in glibc.
  r = reverse(t, "240.0.0.1", 80, 0, 0, 32);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.host, "(unset)");
  EXPECT_EQ(r.serv, "http");
}

TEST(FakeGethostbyaddr, MapsFakeAddressesBackToTheirNames) {
  NameTable t(kV4, kV6, 100);
  std::array<std::uint8_t, 4> a{};
  ASSERT_TRUE(t.address_for("site.test", AF_INET, a));
  hostent he{};
  hostent* result = nullptr;
  char buf[512];
  int herr = 0;
  bool handled = false;
  ASSERT_EQ(
      fake_gethostbyaddr_r(t, a.data(), 4, AF_INET, &he, buf, sizeof buf, &result, &herr, &handled),
      0);
  EXPECT_TRUE(handled);
  ASSERT_EQ(result, &he);
  EXPECT_STREQ(he.h_name, "site.test");
  EXPECT_EQ(he.h_addrtype, AF_INET);
  EXPECT_EQ(0, std::memcmp(he.h_addr_list[0], a.data(), 4));
  EXPECT_EQ(he.h_addr_list[1], nullptr);

  EXPECT_EQ(fake_gethostbyaddr_r(t, a.data(), 4, AF_INET, &he, buf, 8, &result, &herr, &handled),
            ERANGE);
  EXPECT_EQ(herr, NETDB_INTERNAL);
  EXPECT_EQ(result, nullptr);

  const std::uint8_t unassigned[4] = {240, 0, 0, 9};
  ASSERT_EQ(fake_gethostbyaddr_r(t, unassigned, 4, AF_INET, &he, buf, sizeof buf, &result, &herr,
                                 &handled),
            0);
  EXPECT_TRUE(handled);
  EXPECT_EQ(herr, HOST_NOT_FOUND);
  EXPECT_EQ(result, nullptr);

  const std::uint8_t other[4] = {10, 0, 0, 1};
  fake_gethostbyaddr_r(t, other, 4, AF_INET, &he, buf, sizeof buf, &result, &herr, &handled);
  EXPECT_FALSE(handled);
  fake_gethostbyaddr_r(t, a.data(), 3, AF_INET, &he, buf, sizeof buf, &result, &herr, &handled);
  EXPECT_FALSE(handled);  // libc reports EAFNOSUPPORT
  fake_gethostbyaddr_r(t, a.data(), 4, AF_INET6, &he, buf, sizeof buf, &result, &herr, &handled);
  EXPECT_FALSE(handled);
}

}  // namespace
}  // namespace socksify
