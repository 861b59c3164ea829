#include "base/sockaddr_copy.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace socksify {
namespace {

sockaddr_in6 v6_address() {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
  return in6;
}

TEST(SockaddrCopy, StoresWhatWasPassedCutToTheStorage) {
  const sockaddr_in6 in6 = v6_address();
  sockaddr_storage ss{};
  EXPECT_EQ(store_sockaddr(ss, &in6, sizeof in6), sizeof in6);
  EXPECT_EQ(std::memcmp(&ss, &in6, sizeof in6), 0);
  char big[sizeof(sockaddr_storage) + 16] = {};
  EXPECT_EQ(store_sockaddr(ss, big, sizeof big), sizeof(sockaddr_storage));
  EXPECT_EQ(store_sockaddr(ss, nullptr, 0), 0u);
}

TEST(SockaddrCopy, CopiesOutWhatFitsAndReportsTheFullLength) {
  const sockaddr_in6 in6 = v6_address();
  sockaddr_storage ss{};
  const socklen_t n = store_sockaddr(ss, &in6, sizeof in6);

  sockaddr_in6 out{};
  socklen_t len = sizeof out;
  copy_sockaddr_out(&out, &len, ss, n);
  EXPECT_EQ(len, sizeof in6);
  EXPECT_EQ(std::memcmp(&out, &in6, sizeof in6), 0);

  // A short buffer: only its bytes are written, the length says how much there was.
  unsigned char small[8];
  std::memset(small, 0xAA, sizeof small);
  len = 4;
  copy_sockaddr_out(small, &len, ss, n);
  EXPECT_EQ(len, sizeof in6);
  EXPECT_EQ(std::memcmp(small, &in6, 4), 0);
  EXPECT_EQ(small[4], 0xAA);

  copy_sockaddr_out(nullptr, &len, ss, n);  // nothing asked for: nothing happens
  copy_sockaddr_out(&out, nullptr, ss, n);
  EXPECT_EQ(len, sizeof in6);
}

}  // namespace
}  // namespace socksify
