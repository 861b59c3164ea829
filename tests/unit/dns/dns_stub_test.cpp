#include "dns/dns_stub.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <map>
#include <string>

#include "dns/name_table.hpp"
#include "dns/name_table_source.hpp"
#include "dns_bytes.hpp"
#include "test_cidr.hpp"

namespace socksify::dns {
namespace {

using testing::as_bytes;
using testing::Bytes;
using testing::query;
using testing::query_with_opt;

// A table double: fixed answers, and a record of what was asked.
class FakeSource final : public AddressSource {
 public:
  std::map<std::string, std::array<std::uint8_t, 4>> v4;
  std::map<std::string, std::array<std::uint8_t, 16>> v6;
  std::map<std::string, std::string> names;  // inet_ntop text -> name
  std::string direct_name;                   // address_for says Direct for it
  Status missing_family = Status::NoAddress;
  bool fake_range_240 = true;  // 240.0.0.0/4 counts as fake
  std::vector<std::string> asked;

  Status address_for(std::string_view name, int family,
                     std::span<std::uint8_t> out) noexcept override {
    asked.emplace_back(name);
    const std::string key(name);
    if (key == direct_name) return Status::Direct;
    if (family == AF_INET && v4.count(key) && out.size() == 4) {
      std::memcpy(out.data(), v4[key].data(), 4);
      return Status::Found;
    }
    if (family == AF_INET6 && v6.count(key) && out.size() == 16) {
      std::memcpy(out.data(), v6[key].data(), 16);
      return Status::Found;
    }
    return missing_family;
  }

  Status name_for(std::span<const std::uint8_t> addr, std::span<char> out,
                  std::size_t* size) noexcept override {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(addr.size() == 4 ? AF_INET : AF_INET6, addr.data(), text, sizeof text);
    const auto it = names.find(text);
    if (it == names.end()) {
      const bool fake = addr.size() == 4 ? fake_range_240 && addr[0] >= 240 : addr[0] == 0x01;
      return fake ? Status::NoName : Status::NotFake;
    }
    if (it->second.size() > out.size()) return Status::Unavailable;
    std::memcpy(out.data(), it->second.data(), it->second.size());
    *size = it->second.size();
    return Status::Found;
  }
};

struct Reply {
  StubOutcome outcome;
  testing::Parsed parsed;
};

Reply udp(FakeSource& source, const Bytes& q, StubOptions options = {}) {
  std::array<std::byte, 4096> out{};
  Reply r;
  r.outcome = answer_udp(as_bytes(q), source, options, out);
  if (r.outcome.action == StubAction::Reply) {
    r.parsed = testing::parse_response(std::span(out.data(), r.outcome.size));
  }
  return r;
}

FakeSource table() {
  FakeSource s;
  s.v4["target.test"] = {240, 0, 0, 1};
  s.v4["Target.Test"] = {240, 0, 0, 1};
  s.v6["target.test"] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  s.names["240.0.0.1"] = "target.test";
  s.names["100::1"] = "target.test";
  return s;
}

TEST(DnsStub, AQuestionGetsTheFakeAddress) {
  FakeSource s = table();
  const Reply r = udp(s, testing::glibc_query("target.test", ns_t_a));
  ASSERT_EQ(r.outcome.action, StubAction::Reply);
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.rcode, ns_r_noerror);
  ASSERT_EQ(r.parsed.answers.size(), 1u);
  EXPECT_EQ(r.parsed.answers[0].type, ns_t_a);
  EXPECT_EQ(r.parsed.answers[0].ttl, kFakeTtl);
  EXPECT_EQ(r.parsed.answers[0].rdata, (Bytes{240, 0, 0, 1}));
  EXPECT_EQ(s.asked, (std::vector<std::string>{"target.test"}));
}

TEST(DnsStub, AaaaQuestionGetsTheFakeIpv6Address) {
  FakeSource s = table();
  const Reply r = udp(s, testing::glibc_query("target.test", ns_t_aaaa));
  ASSERT_TRUE(r.parsed.ok);
  ASSERT_EQ(r.parsed.answers.size(), 1u);
  EXPECT_EQ(r.parsed.answers[0].type, ns_t_aaaa);
  EXPECT_EQ(r.parsed.answers[0].rdata.size(), 16u);
  EXPECT_EQ(r.parsed.answers[0].rdata[0], 0x01);
}

TEST(DnsStub, MixedCaseIsEchoedAndPassedToTheTable) {
  FakeSource s = table();
  const Reply r = udp(s, query("Target.Test", type::A, 0x7777));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.id, 0x7777);
  EXPECT_EQ(r.parsed.qname, "Target.Test");
  EXPECT_EQ(r.parsed.answers.at(0).name, "Target.Test");
  EXPECT_EQ(s.asked.at(0), "Target.Test");
}

TEST(DnsStub, AaaaWithoutAnIpv6RangeIsNodata) {
  FakeSource s = table();
  const Reply r = udp(s, query("only4.test", type::AAAA));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.rcode, ns_r_noerror);
  EXPECT_EQ(r.parsed.an, 0);
  EXPECT_EQ(r.parsed.ns, 0);  // no SOA: not negatively cached (RFC 2308 §5)
}

TEST(DnsStub, AnUnavailableTableIsServfail) {
  FakeSource s;
  s.missing_family = AddressSource::Status::Unavailable;
  const Reply r = udp(s, query("x.test", type::A));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.rcode, ns_r_servfail);
  EXPECT_EQ(r.outcome.rcode, Rcode::ServFail);
}

TEST(DnsStub, NamesTheSourceSendsDirectAreLeftToTheRealResolver) {
  FakeSource s = table();
  s.direct_name = "intranet.corp";
  for (const std::uint16_t t : {type::A, type::AAAA, type::ANY}) {
    const Reply r = udp(s, query("intranet.corp", t));
    EXPECT_EQ(r.outcome.action, StubAction::Direct) << t;
    EXPECT_EQ(r.outcome.size, 0u);
  }
}

TEST(DnsStub, AnyGetsBothAddresses) {
  FakeSource s = table();
  const Reply r = udp(s, query("target.test", type::ANY));
  ASSERT_TRUE(r.parsed.ok);
  ASSERT_EQ(r.parsed.answers.size(), 2u);
  EXPECT_EQ(r.parsed.answers[0].type, ns_t_a);
  EXPECT_EQ(r.parsed.answers[1].type, ns_t_aaaa);
}

TEST(DnsStub, OtherTypesAreNodataByDefaultAndForwardedWithAnUpstream) {
  for (const std::uint16_t t : {type::MX, type::TXT, type::SRV, type::HTTPS, type::SVCB, type::NS,
                                type::SOA, type::CNAME}) {
    FakeSource s = table();
    const Reply r = udp(s, query("target.test", t));
    ASSERT_EQ(r.outcome.action, StubAction::Reply) << t;
    ASSERT_TRUE(r.parsed.ok) << t;
    EXPECT_EQ(r.parsed.rcode, ns_r_noerror) << t;
    EXPECT_EQ(r.parsed.an, 0) << t;
    EXPECT_EQ(r.parsed.qtype, t);
    EXPECT_TRUE(s.asked.empty()) << "no fake address is claimed for type " << t;
    StubOptions forward;
    forward.forward_other_types = true;
    EXPECT_EQ(udp(s, query("target.test", t), forward).outcome.action, StubAction::Forward) << t;
  }
}

TEST(DnsStub, PtrOfAFakeAddressGivesTheName) {
  FakeSource s = table();
  const Reply r = udp(s, query("1.0.0.240.in-addr.arpa", type::PTR));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.rcode, ns_r_noerror);
  ASSERT_EQ(r.parsed.answers.size(), 1u);
  EXPECT_EQ(r.parsed.answers[0].type, ns_t_ptr);
  EXPECT_EQ(r.parsed.answers[0].rdata_name, "target.test");
  const Reply r6 = udp(s, query("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0"
                                ".IP6.ARPA",
                                type::PTR));
  ASSERT_TRUE(r6.parsed.ok);
  ASSERT_EQ(r6.parsed.answers.size(), 1u);
  EXPECT_EQ(r6.parsed.answers[0].rdata_name, "target.test");
}

TEST(DnsStub, PtrOfAnUnassignedFakeAddressIsNxdomainEvenWithAnUpstream) {
  FakeSource s = table();
  StubOptions forward;
  forward.forward_other_types = true;
  const Reply r = udp(s, query("9.0.0.240.in-addr.arpa", type::PTR), forward);
  ASSERT_EQ(r.outcome.action, StubAction::Reply);
  EXPECT_EQ(r.parsed.rcode, ns_r_nxdomain);
}

TEST(DnsStub, PtrOfAnotherAddressIsAnOtherType) {
  FakeSource s = table();
  const Reply r = udp(s, query("1.2.0.192.in-addr.arpa", type::PTR));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.rcode, ns_r_noerror);
  EXPECT_EQ(r.parsed.an, 0);
  StubOptions forward;
  forward.forward_other_types = true;
  EXPECT_EQ(udp(s, query("1.2.0.192.in-addr.arpa", type::PTR), forward).outcome.action,
            StubAction::Forward);
  // A reverse zone, not an address.
  EXPECT_EQ(udp(s, query("240.in-addr.arpa", type::PTR), forward).outcome.action,
            StubAction::Forward);
}

TEST(DnsStub, PtrOfANameDnsCannotSpellIsServfail) {
  FakeSource s = table();
  s.names["240.0.0.2"] = std::string(64, 'x') + ".test";
  const Reply r = udp(s, query("2.0.0.240.in-addr.arpa", type::PTR));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.rcode, ns_r_servfail);
}

TEST(DnsStub, ReverseNamesParseStrictly) {
  const auto v4 = parse_reverse_name("4.3.2.1.In-Addr.Arpa");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->size, 4);
  EXPECT_EQ(Bytes(v4->bytes, v4->bytes + 4), (Bytes{1, 2, 3, 4}));
  EXPECT_FALSE(parse_reverse_name("3.2.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("5.4.3.2.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("256.3.2.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("04.3.2.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("a.3.2.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name(".3.2.1.in-addr.arpa"));
  EXPECT_FALSE(parse_reverse_name("in-addr.arpa"));
  const auto v6 = parse_reverse_name(
      "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->size, 16);
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, v6->bytes, text, sizeof text);
  EXPECT_STREQ(text, "4321:0:1:2:3:4:567:89ab");  // RFC 3596 §2.5's example
  EXPECT_FALSE(parse_reverse_name("1.0.ip6.arpa"));
  EXPECT_FALSE(parse_reverse_name(
      "g.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa"));
  EXPECT_FALSE(parse_reverse_name(
      "ba.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.5.ip6.arpa"));
}

TEST(DnsStub, NonInClassAndZoneTransfersAreRefused) {
  FakeSource s = table();
  Bytes chaos = query("version.bind", type::TXT);
  chaos[chaos.size() - 1] = 3;  // CH
  EXPECT_EQ(udp(s, chaos).parsed.rcode, ns_r_refused);
  EXPECT_EQ(udp(s, query("target.test", type::AXFR)).parsed.rcode, ns_r_refused);
  EXPECT_TRUE(s.asked.empty());
}

TEST(DnsStub, UnspellableNamesAreNxdomainAndTheRootIsNodata) {
  FakeSource s = table();
  Bytes q = testing::header(1, 0x0100, 1, 0, 0, 0);
  q.insert(q.end(), {3, 'a', '.', 'b', 0, 0, 1, 0, 1});
  EXPECT_EQ(udp(s, q).parsed.rcode, ns_r_nxdomain);
  const Reply root = udp(s, query("", type::A));
  ASSERT_TRUE(root.parsed.ok);
  EXPECT_EQ(root.parsed.rcode, ns_r_noerror);
  EXPECT_EQ(root.parsed.an, 0);
  EXPECT_TRUE(s.asked.empty());
}

TEST(DnsStub, MalformedQueriesGetFormerrWithTheirId) {
  FakeSource s = table();
  Bytes q = query("target.test", type::A, 0xABCD);
  q[5] = 0;  // QDCOUNT 0
  const Reply r = udp(s, q);
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.id, 0xABCD);
  EXPECT_EQ(r.parsed.rcode, ns_r_formerr);
  EXPECT_TRUE(s.asked.empty());
  Bytes update = query("target.test", type::A);
  update[2] |= 5 << 3;
  EXPECT_EQ(udp(s, update).parsed.rcode, ns_r_notimpl);
}

TEST(DnsStub, ShortQueriesAndResponsesGetNothing) {
  FakeSource s = table();
  EXPECT_EQ(udp(s, Bytes{0x12, 0x34, 0x01}).outcome.action, StubAction::Drop);
  Bytes resp = query("target.test", type::A);
  resp[2] |= 0x80;
  EXPECT_EQ(udp(s, resp).outcome.action, StubAction::Drop);
}

TEST(DnsStub, EdnsQueriesGetAnOptAndBadVersionGetsBadvers) {
  FakeSource s = table();
  const Reply r = udp(s, query_with_opt("target.test", type::A, 1232, true));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.answers.size(), 1u);
  ASSERT_EQ(r.parsed.additional.size(), 1u);
  EXPECT_EQ(r.parsed.additional[0].type, ns_t_opt);
  const Reply bad = udp(s, query_with_opt("target.test", type::A, 1232, false, 2));
  ASSERT_TRUE(bad.parsed.ok);
  EXPECT_EQ(bad.parsed.an, 0);
  EXPECT_EQ(bad.outcome.rcode, Rcode::BadVers);
  EXPECT_EQ(bad.parsed.additional.at(0).ttl >> 24, 1u);
}

TEST(DnsStub, TcpAnswersCarryTheLengthPrefix) {
  FakeSource s = table();
  const Bytes q = query("target.test", type::A);
  Bytes framed = {0, static_cast<std::uint8_t>(q.size())};
  framed.insert(framed.end(), q.begin(), q.end());
  const TcpFrame f = next_tcp_frame(as_bytes(framed));
  ASSERT_EQ(f.status, FrameStatus::Ok);
  std::array<std::byte, 1024> out{};
  const StubOutcome o = answer_tcp(f.message, s, {}, out);
  ASSERT_EQ(o.action, StubAction::Reply);
  const TcpFrame back = next_tcp_frame(std::span(out.data(), o.size));
  ASSERT_EQ(back.status, FrameStatus::Ok);
  EXPECT_EQ(back.size, o.size);
  const auto p = testing::parse_response(back.message);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.answers.at(0).rdata, (Bytes{240, 0, 0, 1}));
}

TEST(DnsStub, ALongNameStillFitsIn512BytesWithEdns) {
  // The largest fake answer: a 255-byte name, A and AAAA (ANY) and an OPT.
  FakeSource s;
  const std::string l(63, 'x');
  const std::string name = l + "." + l + "." + l + "." + std::string(61, 'x');
  s.v4[name] = {240, 0, 0, 1};
  s.v6[name] = {1};
  Bytes q = query_with_opt(name, type::ANY, 512);
  const Reply r = udp(s, q);
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_FALSE(r.parsed.tc);
  EXPECT_EQ(r.parsed.an, 2);
  EXPECT_LE(r.outcome.size, 512u);
}

// ---- over the real NameTable ----

using ::socksify::testing::cidr;

Reply via_table(NameTable& t, const Bytes& q) {
  NameTableSource source(t);
  std::array<std::byte, 4096> out{};
  Reply r;
  r.outcome = answer_udp(as_bytes(q), source, {}, out);
  if (r.outcome.action == StubAction::Reply) {
    r.parsed = testing::parse_response(std::span(out.data(), r.outcome.size));
  }
  return r;
}

TEST(DnsStubNameTable, AnswersAreTheAddressesGetaddrinfoHandsOut) {
  NameTable t(cidr(AF_INET, "240.0.0.0", 4), cidr(AF_INET6, "100::", 64), 100);
  const Reply a = via_table(t, query("Web.Test", type::A));
  ASSERT_TRUE(a.parsed.ok);
  ASSERT_EQ(a.parsed.answers.size(), 1u);
  std::array<std::uint8_t, 4> v4{};
  ASSERT_TRUE(t.find_address("web.test", AF_INET, v4));
  EXPECT_EQ(a.parsed.answers[0].rdata, Bytes(v4.begin(), v4.end()));
  const Reply aaaa = via_table(t, query("web.test", type::AAAA));
  std::array<std::uint8_t, 16> v6{};
  ASSERT_TRUE(t.find_address("web.test", AF_INET6, v6));
  EXPECT_EQ(aaaa.parsed.answers.at(0).rdata, Bytes(v6.begin(), v6.end()));
  // And back: the PTR of that address is the name (lower-cased by the table).
  char rev[64];
  std::snprintf(rev, sizeof rev, "%d.%d.%d.%d.in-addr.arpa", v4[3], v4[2], v4[1], v4[0]);
  const Reply ptr = via_table(t, query(rev, type::PTR));
  ASSERT_TRUE(ptr.parsed.ok);
  EXPECT_EQ(ptr.parsed.answers.at(0).rdata_name, "web.test");
  // An address of the range that no name holds.
  const Reply none = via_table(t, query("250.0.0.255.in-addr.arpa", type::PTR));
  EXPECT_EQ(none.parsed.rcode, ns_r_nxdomain);
  const Reply other = via_table(t, query("1.0.0.127.in-addr.arpa", type::PTR));
  EXPECT_EQ(other.parsed.rcode, ns_r_noerror);
  EXPECT_EQ(other.parsed.an, 0);
}

TEST(DnsStubNameTable, MissingRangesAreNodataOrServfail) {
  NameTable v4only(cidr(AF_INET, "240.0.0.0", 4), Cidr{}, 100);
  EXPECT_EQ(via_table(v4only, query("a.test", type::AAAA)).parsed.rcode, ns_r_noerror);
  EXPECT_EQ(via_table(v4only, query("a.test", type::AAAA)).parsed.an, 0);
  NameTable none(Cidr{}, Cidr{}, 100);
  EXPECT_EQ(via_table(none, query("a.test", type::A)).parsed.rcode, ns_r_servfail);
}

}  // namespace
}  // namespace socksify::dns
