#include "dns/dns_forward.hpp"

#include <gtest/gtest.h>

#include <array>
#include <initializer_list>
#include <vector>

#include "dns_bytes.hpp"

namespace socksify::dns {
namespace {

using testing::as_bytes;
using testing::Bytes;
using testing::query;

// What an upstream would send for `raw`: a TXT answer of txt_size bytes.
Bytes upstream_answer(const Bytes& raw, std::size_t txt_size, Rcode rcode = Rcode::NoError) {
  const Query q = parse_query(as_bytes(raw));
  std::vector<std::uint8_t> txt(txt_size, 0);
  const Answer a{type::TXT, 300, txt};
  std::vector<std::byte> out(kMaxMessage);
  const std::size_t n = build_response(out, kMaxMessage, q, rcode, std::span(&a, 1));
  const auto* p = reinterpret_cast<const std::uint8_t*>(out.data());
  return Bytes(p, p + n);
}

struct Relayed {
  std::size_t size = 0;
  testing::Parsed parsed;
  std::vector<std::byte> bytes;
};

Relayed relay(const Bytes& client_query, const Bytes& upstream, std::size_t limit = 0) {
  const Query q = parse_query(as_bytes(client_query));
  Relayed r;
  r.bytes.resize(kMaxMessage);
  r.size = relay_response(q, as_bytes(upstream), r.bytes, limit ? limit : udp_response_limit(q));
  r.bytes.resize(r.size);
  r.parsed = testing::parse_response(r.bytes);
  return r;
}

TEST(DnsRelay, PassesTheUpstreamAnswerWithTheClientsCase) {
  const Bytes client = query("MaIl.TeSt", type::TXT, 0x5151);
  const Bytes upstream = upstream_answer(query("mail.test", type::TXT, 0x5151), 20);
  const Relayed r = relay(client, upstream);
  ASSERT_EQ(r.size, upstream.size());
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.qname, "MaIl.TeSt");
  EXPECT_EQ(r.parsed.answers.at(0).name, "MaIl.TeSt");  // a pointer to the question
  EXPECT_EQ(r.parsed.answers.at(0).ttl, 300u);
  EXPECT_EQ(r.parsed.answers.at(0).rdata.size(), 20u);
  EXPECT_TRUE(answers_query(parse_query(as_bytes(client)), as_bytes(upstream)));
}

TEST(DnsRelay, KeepsTheUpstreamsRcode) {
  const Bytes client = query("gone.test", type::MX);
  const Relayed r = relay(client, upstream_answer(client, 0, Rcode::NxDomain));
  ASSERT_TRUE(r.parsed.ok);
  EXPECT_EQ(r.parsed.rcode, ns_r_nxdomain);
}

TEST(DnsRelay, TooBigForUdpIsTruncatedAndFitsOverTcp) {
  const Bytes client = query("big.test", type::TXT);
  const Bytes upstream = upstream_answer(client, 1000);
  const Relayed udp = relay(client, upstream);
  ASSERT_TRUE(udp.parsed.ok);
  EXPECT_TRUE(udp.parsed.tc);
  EXPECT_EQ(udp.parsed.an, 0);
  EXPECT_LE(udp.size, 512u);
  EXPECT_EQ(udp.parsed.qname, "big.test");
  const Relayed tcp = relay(client, upstream, kMaxMessage);
  ASSERT_TRUE(tcp.parsed.ok);
  EXPECT_FALSE(tcp.parsed.tc);
  EXPECT_EQ(tcp.parsed.an, 1);
}

TEST(DnsRelay, AnythingButAResponseToThisQueryIsServfail) {
  const Bytes client = query("mail.test", type::TXT, 0x0101);
  const Bytes good = upstream_answer(client, 4);
  Bytes other_id = good;
  other_id[1] ^= 1;
  const Bytes other_type = upstream_answer(query("mail.test", type::MX, 0x0101), 4);
  const Bytes other_name = upstream_answer(query("mall.test", type::TXT, 0x0101), 4);
  Bytes not_response = good;
  not_response[2] &= 0x7F;
  Bytes two_questions = good;
  two_questions[5] = 2;
  const Bytes short_one(good.begin(), good.begin() + 20);
  for (const Bytes* bad : std::initializer_list<const Bytes*>{
           &other_id, &other_type, &other_name, &not_response, &two_questions, &short_one}) {
    const Relayed r = relay(client, *bad);
    ASSERT_TRUE(r.parsed.ok);
    EXPECT_EQ(r.parsed.id, 0x0101);
    EXPECT_EQ(r.parsed.rcode, ns_r_servfail);
    EXPECT_EQ(r.parsed.an, 0);
    EXPECT_FALSE(answers_query(parse_query(as_bytes(client)), as_bytes(*bad)));
  }
  EXPECT_EQ(relay(client, good).parsed.rcode, ns_r_noerror);
}

}  // namespace
}  // namespace socksify::dns
