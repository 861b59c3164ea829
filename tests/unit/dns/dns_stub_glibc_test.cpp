// The stub's answers read by glibc's own resolver: res_nquery pointed at a
// loopback server that answers with answer_udp / answer_tcp. glibc checks the
// ID, the QR bit and that the question matches (res_queriesmatch), and turns
// NODATA and NXDOMAIN into NO_DATA and HOST_NOT_FOUND, so this proves the
// bytes are what a real stub resolver accepts. Loopback only, every wait
// bounded.
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>

#include "dns/dns_message.hpp"
#include "dns/dns_stub.hpp"
#include "dns/name_table.hpp"
#include "dns/name_table_source.hpp"
#include "test_cidr.hpp"

namespace socksify::dns {
namespace {

using ::socksify::testing::cidr;

bool wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 3000) == 1;
}

bool read_full(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    if (!wait_readable(fd)) return false;
    const ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// A loopback DNS server answering `count` queries with the stub, over UDP or
// TCP (one query per connection, as glibc's res_send does with RES_USEVC).
class StubServer {
 public:
  StubServer(AddressSource& source, bool tcp, int count) : source_(source), tcp_(tcp) {
    fd_ = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    socklen_t len = sizeof sin;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    addr_ = sin;
    if (tcp) {
      EXPECT_EQ(listen(fd_, 4), 0);
    }
    thread_ = std::thread([this, count] {
      for (int i = 0; i < count && serve_one(); ++i) {
      }
    });
  }
  ~StubServer() {
    thread_.join();
    close(fd_);
  }
  sockaddr_in address() const { return addr_; }

 private:
  bool serve_one() {
    std::array<std::uint8_t, 65536> in{};
    std::array<std::byte, 65538> out{};
    if (!wait_readable(fd_)) return false;
    if (!tcp_) {
      sockaddr_in peer{};
      socklen_t plen = sizeof peer;
      const ssize_t n =
          recvfrom(fd_, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n < 0) return false;
      const auto r =
          answer_udp({reinterpret_cast<const std::byte*>(in.data()), static_cast<std::size_t>(n)},
                     source_, {}, out);
      if (r.action == StubAction::Reply) {
        sendto(fd_, out.data(), r.size, 0, reinterpret_cast<sockaddr*>(&peer), plen);
      }
      return true;
    }
    const int c = accept(fd_, nullptr, nullptr);
    if (c < 0) return false;
    std::uint8_t len[2];
    bool ok = read_full(c, len, 2);
    const std::size_t size = static_cast<std::size_t>((len[0] << 8) | len[1]);
    ok = ok && read_full(c, in.data(), size);
    if (ok) {
      const auto r =
          answer_tcp({reinterpret_cast<const std::byte*>(in.data()), size}, source_, {}, out);
      if (r.action == StubAction::Reply) ok = write(c, out.data(), r.size) == ssize_t(r.size);
    }
    close(c);
    return ok;
  }

  AddressSource& source_;
  bool tcp_;
  int fd_ = -1;
  sockaddr_in addr_{};
  std::thread thread_;
};

struct QueryResult {
  int size = -1;
  int h_errno_value = 0;
  std::array<unsigned char, 4096> answer{};
};

QueryResult glibc_query(const StubServer& server, const char* name, int type, unsigned options) {
  struct __res_state st;
  std::memset(&st, 0, sizeof st);
  QueryResult r;
  if (res_ninit(&st) != 0) return r;
  st.nscount = 1;
  st.nsaddr_list[0] = server.address();
  st._u._ext.nscount = 0;
  for (auto& p : st._u._ext.nsaddrs) p = nullptr;
  st.retry = 1;
  st.retrans = 2;
  st.options |= options;
  r.size = res_nquery(&st, name, ns_c_in, type, r.answer.data(), r.answer.size());
  r.h_errno_value = st.res_h_errno;
  res_nclose(&st);
  return r;
}

class DnsStubGlibc : public ::testing::TestWithParam<bool> {
 protected:
  NameTable table_{cidr(AF_INET, "240.0.0.0", 4), cidr(AF_INET6, "100::", 64), 100};
  NameTableSource source_{table_};
  unsigned options() const { return GetParam() ? RES_USEVC : RES_USE_EDNS0; }
};

TEST_P(DnsStubGlibc, ResNqueryGetsTheFakeAddresses) {
  StubServer server(source_, GetParam(), 2);
  const QueryResult a = glibc_query(server, "Web.Test", ns_t_a, options());
  ASSERT_GT(a.size, 0) << "h_errno " << a.h_errno_value;
  ns_msg msg;
  ASSERT_EQ(ns_initparse(a.answer.data(), a.size, &msg), 0);
  ASSERT_EQ(ns_msg_count(msg, ns_s_an), 1);
  ns_rr rr;
  ASSERT_EQ(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
  std::array<std::uint8_t, 4> v4{};
  ASSERT_TRUE(table_.find_address("web.test", AF_INET, v4));
  ASSERT_EQ(ns_rr_rdlen(rr), 4);
  EXPECT_EQ(0, std::memcmp(ns_rr_rdata(rr), v4.data(), 4));

  const QueryResult aaaa = glibc_query(server, "web.test", ns_t_aaaa, options());
  ASSERT_GT(aaaa.size, 0) << "h_errno " << aaaa.h_errno_value;
  ASSERT_EQ(ns_initparse(aaaa.answer.data(), aaaa.size, &msg), 0);
  ASSERT_EQ(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
  EXPECT_EQ(ns_rr_type(rr), ns_t_aaaa);
}

TEST_P(DnsStubGlibc, NodataAndNxdomainAreWhatGlibcReportsForThem) {
  StubServer server(source_, GetParam(), 2);
  const QueryResult mx = glibc_query(server, "web.test", ns_t_mx, options());
  EXPECT_EQ(mx.size, -1);
  EXPECT_EQ(mx.h_errno_value, NO_DATA);
  const QueryResult ptr = glibc_query(server, "9.9.9.250.in-addr.arpa", ns_t_ptr, options());
  EXPECT_EQ(ptr.size, -1);
  EXPECT_EQ(ptr.h_errno_value, HOST_NOT_FOUND);
}

INSTANTIATE_TEST_SUITE_P(UdpAndTcp, DnsStubGlibc, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Tcp" : "Udp";
                         });

}  // namespace
}  // namespace socksify::dns
