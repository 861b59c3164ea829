#include "dns/dns_message.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>

#include "dns_bytes.hpp"

namespace socksify::dns {
namespace {

using testing::as_bytes;
using testing::Bytes;
using testing::header;
using testing::put16;
using testing::query;
using testing::query_with_opt;
using testing::wire_name;

Bytes with(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Header, one question name given as raw bytes, QTYPE A, class IN.
Bytes raw_question(const Bytes& name_bytes, std::uint16_t an = 0, std::uint16_t ar = 0) {
  Bytes b = header(7, 0x0100, 1, an, 0, ar);
  b = with(b, name_bytes);
  put16(b, 1);
  put16(b, 1);
  return b;
}

TEST(DnsParseQuery, ReadsTheQueryGlibcSends) {
  const Bytes q = testing::glibc_query("Target.Test", 1);
  ASSERT_FALSE(q.empty());
  const Query p = parse_query(as_bytes(q));
  ASSERT_EQ(p.status, QueryStatus::Ok);
  EXPECT_EQ(p.id, (q[0] << 8) | q[1]);
  EXPECT_TRUE(p.flags & flag::RD);
  ASSERT_TRUE(p.has_question);
  EXPECT_EQ(p.question.name(), "Target.Test");
  EXPECT_TRUE(p.question.text_ok);
  EXPECT_EQ(p.question.qtype, type::A);
  EXPECT_EQ(p.question.qclass, kClassIn);
  const Bytes w = wire_name("Target.Test");
  EXPECT_EQ(Bytes(p.question.name_wire().begin(), p.question.name_wire().end()), w);
  EXPECT_FALSE(p.edns.present);
}

TEST(DnsParseQuery, ReadsTheOptRecord) {
  const Query p = parse_query(as_bytes(query_with_opt("a.test", type::AAAA, 4096, true)));
  ASSERT_EQ(p.status, QueryStatus::Ok);
  EXPECT_TRUE(p.edns.present);
  EXPECT_EQ(p.edns.udp_size, 4096);
  EXPECT_TRUE(p.edns.dnssec_ok);
  EXPECT_EQ(udp_response_limit(p), 4096u);
}

TEST(DnsParseQuery, OptOptionsAreWalkedAndACookieIsAccepted) {
  Bytes cookie;  // RFC 7873 §4: COOKIE option, 8-byte client cookie
  put16(cookie, 10);
  put16(cookie, 8);
  for (int i = 0; i < 8; ++i) cookie.push_back(static_cast<std::uint8_t>(i));
  const Bytes q = with(query("a.test", type::A, 1, 1), testing::opt(1232, 0, false, cookie));
  EXPECT_EQ(parse_query(as_bytes(q)).status, QueryStatus::Ok);
  Bytes bad = cookie;
  bad[3] = 9;  // the option claims one byte more than RDLENGTH holds
  const Bytes qb = with(query("a.test", type::A, 1, 1), testing::opt(1232, 0, false, bad));
  EXPECT_EQ(parse_query(as_bytes(qb)).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, SmallEdnsSizeCountsAs512) {
  EXPECT_EQ(udp_response_limit(parse_query(as_bytes(query_with_opt("a.test", 1, 100)))), 512u);
  EXPECT_EQ(udp_response_limit(parse_query(as_bytes(query("a.test", 1)))), 512u);
}

TEST(DnsParseQuery, EdnsVersionAboveZeroIsBadVersion) {
  const Query p = parse_query(as_bytes(query_with_opt("a.test", 1, 1232, false, 1)));
  EXPECT_EQ(p.status, QueryStatus::BadVersion);
  EXPECT_TRUE(p.edns.present);
  EXPECT_TRUE(p.has_question);
}

TEST(DnsParseQuery, EveryTruncatedHeaderIsDropped) {
  const Bytes q = query("a.test", 1);
  for (std::size_t n = 0; n < kHeaderSize; ++n) {
    EXPECT_EQ(parse_query(as_bytes(Bytes(q.begin(), q.begin() + n))).status, QueryStatus::Drop)
        << n;
  }
}

TEST(DnsParseQuery, EveryTruncatedQuestionIsFormErr) {
  const Bytes q = query("abc.test", 1);
  for (std::size_t n = kHeaderSize; n < q.size(); ++n) {
    const Query p = parse_query(as_bytes(Bytes(q.begin(), q.begin() + n)));
    EXPECT_EQ(p.status, QueryStatus::FormErr) << n;
    EXPECT_FALSE(p.has_question) << n;
  }
}

TEST(DnsParseQuery, AResponseIsDroppedSoTwoStubsCannotLoop) {
  Bytes q = query("a.test", 1);
  q[2] |= 0x80;
  EXPECT_EQ(parse_query(as_bytes(q)).status, QueryStatus::Drop);
}

TEST(DnsParseQuery, OtherOpcodesAreNotImplemented) {
  Bytes q = query("a.test", 1);
  q[2] = static_cast<std::uint8_t>(q[2] | (5 << 3));  // UPDATE (RFC 2136)
  const Query p = parse_query(as_bytes(q));
  EXPECT_EQ(p.status, QueryStatus::NotImp);
  EXPECT_EQ(p.opcode(), 5);
}

TEST(DnsParseQuery, QdcountOtherThanOneIsFormErr) {
  Bytes none = header(1, 0x0100, 0, 0, 0, 0);
  EXPECT_EQ(parse_query(as_bytes(none)).status, QueryStatus::FormErr);
  Bytes two = query("a.test", 1);
  two[5] = 2;  // claims a second question that is not there
  EXPECT_EQ(parse_query(as_bytes(two)).status, QueryStatus::FormErr);
  Bytes both = with(two, Bytes{0, 0, 1, 0, 1});  // and with it present
  EXPECT_EQ(parse_query(as_bytes(both)).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, LabelPastTheEndIsFormErr) {
  EXPECT_EQ(parse_query(as_bytes(with(header(1, 0, 1, 0, 0, 0), Bytes{5, 'a', 'b'}))).status,
            QueryStatus::FormErr);
}

TEST(DnsParseQuery, CompressionPointerToItselfIsFormErr) {
  EXPECT_EQ(parse_query(as_bytes(raw_question({0xC0, 12}))).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, CompressionLoopThroughALabelIsFormErr) {
  // "a" then a pointer back to the "a": a loop if pointers could reach the
  // run they end.
  EXPECT_EQ(parse_query(as_bytes(raw_question({1, 'a', 0xC0, 12}))).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, ForwardPointerIsFormErr) {
  EXPECT_EQ(parse_query(as_bytes(raw_question({0xC0, 14, 0, 1, 'a', 0}))).status,
            QueryStatus::FormErr);
}

TEST(DnsParseQuery, PointerIntoTheHeaderIsFormErr) {
  EXPECT_EQ(parse_query(as_bytes(raw_question({0xC0, 4}))).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, ExtendedLabelTypesAreFormErr) {
  EXPECT_EQ(parse_query(as_bytes(raw_question({0x41, 'a', 0}))).status, QueryStatus::FormErr);
  EXPECT_EQ(parse_query(as_bytes(raw_question({0x81, 'a', 0}))).status, QueryStatus::FormErr);
}

Bytes name_of_wire_size(std::size_t size) {
  // 63-byte labels, then one label that makes the total `size` with the root.
  Bytes b;
  std::size_t left = size - 1;
  while (left > 0) {
    const std::size_t len = std::min<std::size_t>(63, left - 1);
    b.push_back(static_cast<std::uint8_t>(len));
    b.insert(b.end(), len, 'x');
    left -= len + 1;
  }
  b.push_back(0);
  return b;
}

TEST(DnsParseQuery, NameOf255BytesIsAcceptedAnd256IsFormErr) {
  const Bytes ok = name_of_wire_size(255);
  ASSERT_EQ(ok.size(), 255u);
  const Query p = parse_query(as_bytes(raw_question(ok)));
  ASSERT_EQ(p.status, QueryStatus::Ok);
  EXPECT_EQ(p.question.wire_size, 255);
  EXPECT_EQ(p.question.name().size(), kMaxNameText);
  const Bytes bad = name_of_wire_size(256);
  ASSERT_EQ(bad.size(), 256u);
  EXPECT_EQ(parse_query(as_bytes(raw_question(bad))).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, NameTooLongThroughPointersIsFormErr) {
  // The question is 200 bytes; a record in the additional section adds 60
  // bytes of labels before pointing back to it: 260 bytes in all.
  const Bytes first = name_of_wire_size(200);
  Bytes q = raw_question(first, 0, 1);
  Bytes rr = {59};
  rr.insert(rr.end(), 59, 'y');
  rr.insert(rr.end(), {0xC0, 12});
  put16(rr, 1);
  put16(rr, 1);
  testing::put32(rr, 0);
  put16(rr, 0);
  EXPECT_EQ(parse_query(as_bytes(with(q, rr))).status, QueryStatus::FormErr);
  // The same with a shorter prefix is a valid backward pointer.
  Bytes short_rr = {3, 'y', 'y', 'y', 0xC0, 12};
  put16(short_rr, 1);
  put16(short_rr, 1);
  testing::put32(short_rr, 0);
  put16(short_rr, 0);
  EXPECT_EQ(parse_query(as_bytes(with(q, short_rr))).status, QueryStatus::Ok);
}

TEST(DnsParseQuery, HugeCountsAreFormErrWithoutAWalk) {
  Bytes q = query("a.test", 1);
  q[6] = q[7] = q[8] = q[9] = q[10] = q[11] = 0xFF;
  const Query p = parse_query(as_bytes(q));
  EXPECT_EQ(p.status, QueryStatus::FormErr);
  EXPECT_TRUE(p.has_question);  // the FORMERR can still echo it
}

TEST(DnsParseQuery, TwoOptRecordsAreFormErr) {
  Bytes q = query("a.test", 1, 1, 2);
  q = with(with(q, testing::opt(1232, 0, false)), testing::opt(1232, 0, false));
  EXPECT_EQ(parse_query(as_bytes(q)).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, OptOutsideTheAdditionalSectionIsFormErr) {
  Bytes q = query("a.test", 1, 1, 0);
  q[7] = 1;  // ANCOUNT
  EXPECT_EQ(parse_query(as_bytes(with(q, testing::opt(1232, 0, false)))).status,
            QueryStatus::FormErr);
}

TEST(DnsParseQuery, OptWithANameIsFormErr) {
  Bytes o = testing::opt(1232, 0, false);
  o[0] = 1;
  o.insert(o.begin() + 1, {'x', 0});
  EXPECT_EQ(parse_query(as_bytes(with(query("a.test", 1, 1, 1), o))).status, QueryStatus::FormErr);
}

TEST(DnsParseQuery, BytesAfterTheLastRecordAreIgnored) {
  EXPECT_EQ(parse_query(as_bytes(with(query("a.test", 1), Bytes{1, 2, 3}))).status,
            QueryStatus::Ok);
}

TEST(DnsParseQuery, LabelsWithoutADottedFormAreFlagged) {
  const Query dot = parse_query(as_bytes(raw_question({3, 'a', '.', 'b', 0})));
  ASSERT_EQ(dot.status, QueryStatus::Ok);
  EXPECT_FALSE(dot.question.text_ok);
  const Query space = parse_query(as_bytes(raw_question({3, 'a', ' ', 'b', 0})));
  EXPECT_FALSE(space.question.text_ok);
  const Query root = parse_query(as_bytes(raw_question({0})));
  EXPECT_TRUE(root.question.text_ok);
  EXPECT_EQ(root.question.name(), "");
  const Query under = parse_query(as_bytes(query("_http._tcp.Deb.Test", 33)));
  EXPECT_TRUE(under.question.text_ok);
  EXPECT_EQ(under.question.name(), "_http._tcp.Deb.Test");
}

TEST(DnsBuildResponse, EchoesTheQuestionAndAnswersAsLibresolvReadsThem) {
  const Bytes raw = query("tArGeT.TeSt", type::A, 0xBEEF);  // 0x20 randomised case
  const Query q = parse_query(as_bytes(raw));
  const std::uint8_t addr[4] = {240, 0, 0, 1};
  const Answer a{type::A, 10, addr};
  std::array<std::byte, 512> out{};
  const std::size_t n = build_response(out, 512, q, Rcode::NoError, std::span(&a, 1));
  ASSERT_GT(n, 0u);
  const auto r = testing::parse_response(std::span(out.data(), n));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.id, 0xBEEF);
  EXPECT_TRUE(r.qr);
  EXPECT_TRUE(r.rd);
  EXPECT_TRUE(r.ra);
  EXPECT_FALSE(r.aa);
  EXPECT_FALSE(r.tc);
  EXPECT_EQ(r.rcode, 0);
  EXPECT_EQ(r.qname, "tArGeT.TeSt");
  // The echoed question is the query's bytes exactly (RFC 1035 §7.3: resolvers
  // match it; 0x20 resolvers compare the case).
  EXPECT_EQ(0, std::memcmp(out.data() + 12, raw.data() + 12, raw.size() - 12));
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].name, "tArGeT.TeSt");
  EXPECT_EQ(r.answers[0].type, ns_t_a);
  EXPECT_EQ(r.answers[0].klass, ns_c_in);
  EXPECT_EQ(r.answers[0].ttl, 10u);
  EXPECT_EQ(r.answers[0].rdata, (Bytes{240, 0, 0, 1}));
}

TEST(DnsBuildResponse, CopiesRdAndCdAndClearsTheRest) {
  Bytes raw = query("a.test", 1);
  raw[2] = 0x00;         // RD clear
  raw[3] = 0x10 | 0x20;  // CD and AD set in the query
  const Query q = parse_query(as_bytes(raw));
  std::array<std::byte, 512> out{};
  const std::size_t n = build_response(out, 512, q, Rcode::NoError);
  const auto r = testing::parse_response(std::span(out.data(), n));
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.rd);
  EXPECT_TRUE(r.cd);
  EXPECT_EQ(ns_msg_getflag(r.msg, ns_f_ad), 0);
  EXPECT_EQ(r.an, 0);
}

TEST(DnsBuildResponse, AddsAnOptWhenTheQueryHadOneAndCopiesDo) {
  const Query q = parse_query(as_bytes(query_with_opt("a.test", 1, 4096, true)));
  std::array<std::byte, 512> out{};
  const std::size_t n = build_response(out, 512, q, Rcode::NxDomain);
  const auto r = testing::parse_response(std::span(out.data(), n));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rcode, 3);
  ASSERT_EQ(r.additional.size(), 1u);
  EXPECT_EQ(r.additional[0].type, ns_t_opt);
  EXPECT_EQ(r.additional[0].name, ".");  // libresolv spells the root "."
  EXPECT_EQ(r.additional[0].klass, kOurUdpPayload);
  EXPECT_EQ(r.additional[0].ttl, 0x8000u);  // DO, version 0, no extended code
}

TEST(DnsBuildResponse, BadVersCarriesItsUpperBitsInTheOpt) {
  const Query q = parse_query(as_bytes(query_with_opt("a.test", 1, 1232, false, 1)));
  std::array<std::byte, 512> out{};
  const std::size_t n = build_response(out, 512, q, Rcode::BadVers);
  const auto r = testing::parse_response(std::span(out.data(), n));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rcode, 0);  // RFC 6891 §6.1.3: 16 = 1 << 4 | 0
  ASSERT_EQ(r.additional.size(), 1u);
  EXPECT_EQ(r.additional[0].ttl >> 24, 1u);
  EXPECT_EQ((r.additional[0].ttl >> 16) & 0xFF, 0u);
}

TEST(DnsBuildResponse, TooBigSetsTcAndDropsTheAnswers) {
  const Query q = parse_query(as_bytes(query("a.test", type::TXT)));
  std::array<std::uint8_t, 600> txt{};
  const Answer a{type::TXT, 10, txt};
  std::array<std::byte, 2048> out{};
  const std::size_t n =
      build_response(out, udp_response_limit(q), q, Rcode::NoError, std::span(&a, 1));
  ASSERT_GT(n, 0u);
  EXPECT_LE(n, 512u);
  const auto r = testing::parse_response(std::span(out.data(), n));
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.tc);
  EXPECT_EQ(r.an, 0);
  EXPECT_EQ(r.qname, "a.test");
  // Over TCP the same answer fits.
  const std::size_t big = build_response(out, kMaxMessage, q, Rcode::NoError, std::span(&a, 1));
  const auto rb = testing::parse_response(std::span(out.data(), big));
  ASSERT_TRUE(rb.ok);
  EXPECT_FALSE(rb.tc);
  EXPECT_EQ(rb.an, 1);
}

TEST(DnsBuildResponse, NothingWhenEvenTheHeaderDoesNotFit) {
  const Query q = parse_query(as_bytes(query("a.test", 1)));
  std::array<std::byte, 64> out{};
  EXPECT_EQ(build_response(std::span(out).first(11), 512, q, Rcode::NoError), 0u);
  EXPECT_EQ(build_response(out, 20, q, Rcode::NoError), 0u);         // header fits, question not
  EXPECT_EQ(build_response(out, 512, Query{}, Rcode::NoError), 0u);  // a Drop
}

TEST(DnsBuildResponse, FormErrWithoutAQuestionIsAHeaderOnly) {
  const Query q = parse_query(as_bytes(header(0x4242, 0x0100, 0, 0, 0, 0)));
  ASSERT_EQ(q.status, QueryStatus::FormErr);
  std::array<std::byte, 512> out{};
  const std::size_t n = build_response(out, 512, q, Rcode::FormErr);
  EXPECT_EQ(n, kHeaderSize);
  const auto r = testing::parse_response(std::span(out.data(), n));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.id, 0x4242);
  EXPECT_EQ(r.rcode, 1);
  EXPECT_EQ(r.qd, 0);
}

TEST(DnsEncodeName, WritesLabelsAndRejectsBadNames) {
  std::array<std::uint8_t, 300> out{};
  ASSERT_EQ(encode_name(out, "ab.c"), 6u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 6), (Bytes{2, 'a', 'b', 1, 'c', 0}));
  EXPECT_EQ(encode_name(out, "ab.c."), 6u);
  EXPECT_EQ(encode_name(out, ""), 1u);
  EXPECT_EQ(encode_name(out, "."), 1u);
  EXPECT_EQ(encode_name(out, "a..b"), 0u);
  EXPECT_EQ(encode_name(out, ".a"), 0u);
  EXPECT_EQ(encode_name(out, "a.."), 0u);
  EXPECT_EQ(encode_name(out, std::string(64, 'x')), 0u);
  EXPECT_EQ(encode_name(out, std::string(63, 'x')), 65u);
  // 4 labels of 63: 4 * 64 + 1 = 257 bytes, over 255.
  const std::string l(63, 'x');
  EXPECT_EQ(encode_name(out, l + "." + l + "." + l + "." + l), 0u);
  EXPECT_EQ(encode_name(out, l + "." + l + "." + l + "." + std::string(61, 'x')), 255u);
  EXPECT_EQ(encode_name(std::span(out).first(5), "ab.c"), 0u);
  EXPECT_EQ(encode_name(std::span(out).first(6), "ab.c"), 6u);
}

TEST(DnsTcpFrame, SplitsAStreamIntoMessages) {
  Bytes stream = {0, 3, 'a', 'b', 'c', 0, 1, 'd', 0};
  auto f = next_tcp_frame(as_bytes(stream));
  ASSERT_EQ(f.status, FrameStatus::Ok);
  EXPECT_EQ(f.size, 5u);
  EXPECT_EQ(f.message.size(), 3u);
  EXPECT_EQ(static_cast<char>(f.message[0]), 'a');
  f = next_tcp_frame(as_bytes(stream).subspan(5));
  ASSERT_EQ(f.status, FrameStatus::Ok);
  EXPECT_EQ(f.message.size(), 1u);
  f = next_tcp_frame(as_bytes(stream).subspan(8));
  EXPECT_EQ(f.status, FrameStatus::NeedMore);
  EXPECT_EQ(f.size, 2u);
  f = next_tcp_frame(as_bytes(Bytes{0xFF, 0xFF, 1}));
  EXPECT_EQ(f.status, FrameStatus::NeedMore);
  EXPECT_EQ(f.size, 65537u);
  f = next_tcp_frame(as_bytes(Bytes{0, 0}));
  EXPECT_EQ(f.status, FrameStatus::Ok);
  EXPECT_TRUE(f.message.empty());
}

TEST(DnsTcpFrame, PutsTheLengthPrefix) {
  std::array<std::byte, 2> out{};
  ASSERT_TRUE(put_tcp_length(out, 0x1234));
  EXPECT_EQ(out[0], std::byte{0x12});
  EXPECT_EQ(out[1], std::byte{0x34});
  EXPECT_FALSE(put_tcp_length(out, 65536));
  EXPECT_FALSE(put_tcp_length(std::span(out).first(1), 1));
}

}  // namespace
}  // namespace socksify::dns
