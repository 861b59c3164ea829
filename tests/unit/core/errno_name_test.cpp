#include <errno.h>
#include <gtest/gtest.h>

#include <string>

#include "core/log.hpp"

namespace socksify {
namespace {

TEST(ErrnoName, NamesTheErrnosSocksifyReturns) {
  EXPECT_EQ(log::errno_name(ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(log::errno_name(ETIMEDOUT), "ETIMEDOUT");
  EXPECT_EQ(log::errno_name(EPROTO), "EPROTO");
}

// Issue 14 item 10: an errno outside a short list printed a bare "(errno)".
TEST(ErrnoName, NamesErrnosBeyondTheOnesSocksifyReturns) {
  EXPECT_EQ(log::errno_name(ENOENT), "ENOENT");
  EXPECT_EQ(log::errno_name(EINTR), "EINTR");
  EXPECT_EQ(log::errno_name(ENFILE), "ENFILE");
  EXPECT_EQ(log::errno_name(EADDRINUSE), "EADDRINUSE");
  EXPECT_EQ(log::errno_name(ENETDOWN), "ENETDOWN");
  EXPECT_EQ(log::errno_name(ECANCELED), "ECANCELED");
  EXPECT_EQ(log::errno_name(EDQUOT), "EDQUOT");
  EXPECT_EQ(log::errno_name(EHWPOISON), "EHWPOISON");
}

TEST(ErrnoName, EveryErrnoTheKernelDefinesHasAnEName) {
  // 1..133 are Linux's errnos (41 and 58 are unused numbers).
  for (int e = 1; e <= EHWPOISON; ++e) {
    if (e == 41 || e == 58) continue;
    const std::string name(log::errno_name(e));
    EXPECT_EQ(name.substr(0, 1), "E") << e << " " << name;
    EXPECT_NE(name, "errno") << e;
  }
}

TEST(ErrnoName, AliasesGetThePrimaryNameAndNonErrnosSaySo) {
  EXPECT_EQ(log::errno_name(EWOULDBLOCK), "EAGAIN");
  EXPECT_EQ(log::errno_name(ENOTSUP), "EOPNOTSUPP");
  EXPECT_EQ(log::errno_name(-1), "unknown errno");
  EXPECT_EQ(log::errno_name(4242), "unknown errno");
  EXPECT_EQ(log::errno_name(41), "unknown errno");
}

}  // namespace
}  // namespace socksify
