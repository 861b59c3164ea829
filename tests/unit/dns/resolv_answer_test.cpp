// res_query / res_send answered by the stub with glibc's conventions: the
// responses are read back with libresolv's own parser (dns_bytes.hpp), and the
// queries we build are compared with glibc's res_mkquery.
#include "dns/resolv_answer.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>

#include <cstring>
#include <string>
#include <vector>

#include "dns/name_table.hpp"
#include "dns/name_table_source.hpp"
#include "dns_bytes.hpp"
#include "test_cidr.hpp"

namespace socksify::dns {
namespace {

using testing::Bytes;
using testing::glibc_query;
using testing::parse_response;

using ::socksify::testing::cidr;

struct Table {
  NameTable table{cidr(AF_INET, "240.0.0.0", 4), cidr(AF_INET6, "100::", 64), 100};
  NameTableSource source{table};
};

// Says Direct for every name (a direct rule).
class DirectSource final : public AddressSource {
 public:
  Status address_for(std::string_view, int, std::span<std::uint8_t>) noexcept override {
    return Status::Direct;
  }
  Status name_for(std::span<const std::uint8_t>, std::span<char>, std::size_t*) noexcept override {
    return Status::NotFake;
  }
};

std::span<const std::byte> bytes_of(const std::vector<std::uint8_t>& b, int n) {
  return {reinterpret_cast<const std::byte*>(b.data()), static_cast<std::size_t>(n)};
}

// --- the name res_querydomain asks for ------------------------------------------

TEST(JoinQueryName, NameAloneOrJoinedWithTheDomain) {
  char out[kResolvMaxName];
  std::size_t n = 0;
  ASSERT_TRUE(join_query_name("www", "example.test", out, &n));
  EXPECT_EQ(std::string(out, n), "www.example.test");
  ASSERT_TRUE(join_query_name("host.test.", nullptr, out, &n));
  EXPECT_EQ(std::string(out, n), "host.test.");
}

TEST(JoinQueryName, GlibcLengthLimitsAndEmptyName) {
  char out[kResolvMaxName];
  std::size_t n = 0;
  EXPECT_FALSE(join_query_name("", nullptr, out, &n));
  const std::string half(512, 'a');
  const std::string less(511, 'a');
  EXPECT_TRUE(join_query_name(less.c_str(), half.c_str(), out, &n));  // 1024 < MAXDNAME
  EXPECT_EQ(n, 1024u);
  EXPECT_FALSE(join_query_name(half.c_str(), half.c_str(), out, &n));  // n + d + 1 >= 1025
  EXPECT_FALSE(join_query_name(nullptr, "x", out, &n));
}

// --- the query -------------------------------------------------------------------

TEST(BuildQuery, SameBytesAsGlibcResMkqueryButTheId) {
  for (const char* name : {"target.test", "target.test.", "a.b.c.d.example", "."}) {
    for (const int type : {ns_t_a, ns_t_mx, ns_t_srv, ns_t_ptr}) {
      Bytes ours(600);
      const std::size_t n =
          build_query(std::as_writable_bytes(std::span(ours)), name, ns_c_in, type, 0);
      Bytes theirs = glibc_query(name, type);
      ASSERT_FALSE(theirs.empty()) << name;
      theirs[0] = theirs[1] = 0;
      ours.resize(n);
      EXPECT_EQ(ours, theirs) << name << " type " << type;
    }
  }
}

TEST(BuildQuery, RefusesWhatNoQueryCanCarry) {
  std::byte out[600];
  EXPECT_EQ(build_query(out, "a..b", ns_c_in, ns_t_a, 0), 0u);
  EXPECT_EQ(build_query(out, std::string(64, 'x') + ".test", ns_c_in, ns_t_a, 0), 0u);
  EXPECT_EQ(build_query(out, "a\\.b.test", ns_c_in, ns_t_a, 0), 0u);
  EXPECT_EQ(build_query(out, "ok.test", ns_c_in, 70000, 0), 0u);
  EXPECT_EQ(build_query(out, "ok.test", -1, ns_t_a, 0), 0u);
  std::byte small[20];
  EXPECT_EQ(build_query(small, "ok.test", ns_c_in, ns_t_a, 0), 0u);
}

// --- res_query ----------------------------------------------------------------------

TEST(AnswerResQuery, AGetsTheFakeAddressOfTheTable) {
  Table t;
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  const ResolvOutcome r =
      answer_res_query("target.test", ns_c_in, ns_t_a, t.source, {}, nullptr, answer);
  ASSERT_GT(r.length, 0);
  EXPECT_FALSE(r.direct);
  const auto p = parse_response(bytes_of(answer, r.length));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.rcode, ns_r_noerror);
  EXPECT_EQ(p.qname, "target.test");
  ASSERT_EQ(p.answers.size(), 1u);
  ASSERT_EQ(p.answers[0].rdata.size(), 4u);
  std::uint8_t fake[4];
  ASSERT_TRUE(t.table.find_address("target.test", AF_INET, fake));
  EXPECT_EQ(std::memcmp(p.answers[0].rdata.data(), fake, 4), 0);
  EXPECT_EQ(p.answers[0].rdata[0] & 0xF0, 240);
}

TEST(AnswerResQuery, AaaaAndAnyGetTheirRecords) {
  Table t;
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  ResolvOutcome r = answer_res_query("v6.test", ns_c_in, ns_t_aaaa, t.source, {}, nullptr, answer);
  ASSERT_GT(r.length, 0);
  auto p = parse_response(bytes_of(answer, r.length));
  ASSERT_EQ(p.answers.size(), 1u);
  EXPECT_EQ(p.answers[0].type, ns_t_aaaa);
  r = answer_res_query("v6.test", ns_c_in, ns_t_any, t.source, {}, nullptr, answer);
  ASSERT_GT(r.length, 0);
  p = parse_response(bytes_of(answer, r.length));
  EXPECT_EQ(p.answers.size(), 2u);
}

TEST(AnswerResQuery, OtherTypesAreNoDataWithoutAnUpstream) {
  Table t;
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  for (const int type : {ns_t_mx, ns_t_srv, ns_t_txt}) {
    const ResolvOutcome r =
        answer_res_query("_http._tcp.target.test", ns_c_in, type, t.source, {}, nullptr, answer);
    EXPECT_EQ(r.length, -1);
    EXPECT_EQ(r.h_error, NO_DATA);
    EXPECT_EQ(r.error, 0);
    // The buffer holds the NODATA response, as glibc's would.
    const auto p = parse_response(bytes_of(answer, NS_HFIXEDSZ + 4 + 24));
    EXPECT_EQ(answer[3] & 0x0F, ns_r_noerror);
    (void)p;
  }
}

TEST(AnswerResQuery, AForwarderAnswersOtherTypesWhenOneIsConfigured) {
  struct Upstream final : Forwarder {
    int calls = 0;
    std::size_t forward(const Query& q, std::span<const std::byte>,
                        std::span<std::byte> out) noexcept override {
      ++calls;
      const std::uint8_t rdata[] = {0, 10, 4, 'm', 'a', 'i', 'l', 0};
      const Answer a{type::MX, 60, rdata};
      return build_response(out, out.size(), q, Rcode::NoError, std::span(&a, 1));
    }
  } upstream;
  Table t;
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  StubOptions options;
  options.forward_other_types = true;
  ResolvOutcome r =
      answer_res_query("target.test", ns_c_in, ns_t_mx, t.source, options, &upstream, answer);
  ASSERT_GT(r.length, 0);
  EXPECT_EQ(upstream.calls, 1);
  const auto p = parse_response(bytes_of(answer, r.length));
  ASSERT_EQ(p.answers.size(), 1u);
  EXPECT_EQ(p.answers[0].type, ns_t_mx);
  // Configured but no forwarder given: NODATA.
  r = answer_res_query("target.test", ns_c_in, ns_t_mx, t.source, options, nullptr, answer);
  EXPECT_EQ(r.length, -1);
  EXPECT_EQ(r.h_error, NO_DATA);
}

TEST(AnswerResQuery, ErrorsMapToGlibcsHErrno) {
  Table t;
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  // CHAOS: the stub refuses, glibc reports REFUSED as NO_RECOVERY.
  ResolvOutcome r =
      answer_res_query("version.bind", ns_c_chaos, ns_t_txt, t.source, {}, nullptr, answer);
  EXPECT_EQ(r.length, -1);
  EXPECT_EQ(r.h_error, NO_RECOVERY);
  // A name no query can be built for.
  r = answer_res_query("a..b", ns_c_in, ns_t_a, t.source, {}, nullptr, answer);
  EXPECT_EQ(r.length, -1);
  EXPECT_EQ(r.h_error, NO_RECOVERY);
  // A table that cannot give an address: SERVFAIL, TRY_AGAIN.
  NameTable none(cidr(AF_INET, "240.0.0.0", 4), Cidr{}, 0);
  NameTableSource empty(none);
  r = answer_res_query("target.test", ns_c_in, ns_t_a, empty, {}, nullptr, answer);
  EXPECT_EQ(r.length, -1);
  EXPECT_EQ(r.h_error, TRY_AGAIN);
  // An answer buffer smaller than a header: res_send's EINVAL, res_query's TRY_AGAIN.
  r = answer_res_query("target.test", ns_c_in, ns_t_a, t.source, {}, nullptr,
                       std::span(answer).first(11));
  EXPECT_EQ(r.length, -1);
  EXPECT_EQ(r.h_error, TRY_AGAIN);
  EXPECT_EQ(r.error, EINVAL);
}

TEST(AnswerResQuery, APtrOfAFakeAddressGivesTheName) {
  Table t;
  std::uint8_t fake[4];
  ASSERT_TRUE(t.table.address_for("back.test", AF_INET, fake));
  const std::string reverse = std::to_string(fake[3]) + "." + std::to_string(fake[2]) + "." +
                              std::to_string(fake[1]) + "." + std::to_string(fake[0]) +
                              ".in-addr.arpa";
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  const ResolvOutcome r =
      answer_res_query(reverse, ns_c_in, ns_t_ptr, t.source, {}, nullptr, answer);
  ASSERT_GT(r.length, 0);
  const auto p = parse_response(bytes_of(answer, r.length));
  ASSERT_EQ(p.answers.size(), 1u);
  EXPECT_EQ(p.answers[0].rdata_name, "back.test");
  // An unassigned fake address: NXDOMAIN, HOST_NOT_FOUND.
  const ResolvOutcome none = answer_res_query("200.200.200.250.in-addr.arpa", ns_c_in, ns_t_ptr,
                                              t.source, {}, nullptr, answer);
  EXPECT_EQ(none.length, -1);
  EXPECT_EQ(none.h_error, HOST_NOT_FOUND);
}

TEST(AnswerResQuery, ASmallBufferGetsTheStartFlaggedTruncatedAndTheFullLength) {
  Table t;
  const std::string name = std::string(60, 'a') + "." + std::string(60, 'b') + ".test";
  std::vector<std::uint8_t> full(NS_PACKETSZ);
  const ResolvOutcome whole = answer_res_query(name, ns_c_in, ns_t_a, t.source, {}, nullptr, full);
  ASSERT_GT(whole.length, 100);
  std::vector<std::uint8_t> small(100);
  const ResolvOutcome cut = answer_res_query(name, ns_c_in, ns_t_a, t.source, {}, nullptr, small);
  EXPECT_EQ(cut.length, whole.length);  // more than the buffer: the caller can tell
  EXPECT_TRUE(small[2] & 0x02);         // TC in the copied header
  EXPECT_EQ(std::memcmp(small.data() + 3, full.data() + 3, small.size() - 3), 0);
}

TEST(AnswerResQuery, ADirectNameIsLeftToTheRealCall) {
  DirectSource direct;
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  const ResolvOutcome r =
      answer_res_query("localhost", ns_c_in, ns_t_a, direct, {}, nullptr, answer);
  EXPECT_TRUE(r.direct);
}

// --- res_send --------------------------------------------------------------------------

TEST(AnswerResSend, AGlibcQueryGetsItsAnswerWithItsId) {
  Table t;
  const Bytes query = glibc_query("send.test", ns_t_a);
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  const ResolvOutcome r = answer_res_send(query, t.source, {}, nullptr, answer);
  ASSERT_GT(r.length, 0);
  const auto p = parse_response(bytes_of(answer, r.length));
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.id, (query[0] << 8) | query[1]);
  EXPECT_TRUE(p.qr);
  EXPECT_EQ(p.answers.size(), 1u);
  // res_send returns a response whatever its RCODE: NODATA is a length too.
  const Bytes mx = glibc_query("send.test", ns_t_mx);
  const ResolvOutcome nodata = answer_res_send(mx, t.source, {}, nullptr, answer);
  EXPECT_GT(nodata.length, 0);
  EXPECT_EQ(h_errno_for_response(std::span(answer).first(NS_HFIXEDSZ)), NO_DATA);
}

TEST(AnswerResSend, WhatIsNotAQueryGetsNoAnswer) {
  Table t;
  Bytes response = glibc_query("send.test", ns_t_a);
  response[2] |= 0x80;  // QR: a response, nothing to answer
  std::vector<std::uint8_t> answer(NS_PACKETSZ);
  ResolvOutcome r = answer_res_send(response, t.source, {}, nullptr, answer);
  EXPECT_EQ(r.length, -1);
  EXPECT_EQ(r.error, ECONNREFUSED);
  EXPECT_EQ(r.h_error, 0);
  r = answer_res_send(std::span(response).first(5), t.source, {}, nullptr, answer);
  EXPECT_EQ(r.error, EINVAL);
  r = answer_res_send(glibc_query("send.test", ns_t_a), t.source, {}, nullptr,
                      std::span(answer).first(8));
  EXPECT_EQ(r.error, EINVAL);
}

TEST(HErrnoForResponse, GlibcsVerdictOnTheHeader) {
  auto header = [](int rcode, int ancount) {
    std::vector<std::uint8_t> h(12, 0);
    h[2] = 0x81;
    h[3] = static_cast<std::uint8_t>(0x80 | rcode);
    h[7] = static_cast<std::uint8_t>(ancount);
    return h;
  };
  EXPECT_EQ(h_errno_for_response(header(0, 1)), 0);
  EXPECT_EQ(h_errno_for_response(header(0, 0)), NO_DATA);
  EXPECT_EQ(h_errno_for_response(header(3, 0)), HOST_NOT_FOUND);
  EXPECT_EQ(h_errno_for_response(header(2, 0)), TRY_AGAIN);
  EXPECT_EQ(h_errno_for_response(header(5, 0)), NO_RECOVERY);
  EXPECT_EQ(h_errno_for_response(header(1, 0)), NO_RECOVERY);
}

}  // namespace
}  // namespace socksify::dns
