// getaddrinfo_a's batch as socksify runs it: every request resolved before
// the call returns, its result where gai_error reads it, and the notification
// glibc would give (GAI_NOWAIT only).
#include "dns/gai_batch.hpp"

#include <errno.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace socksify {
namespace {

std::vector<std::string> g_asked;

int fake_resolve(const char* node, const char*, const addrinfo*, addrinfo** res) {
  g_asked.emplace_back(node != nullptr ? node : "(null)");
  if (std::strcmp(node, "bad.test") == 0) return EAI_NONAME;
  static addrinfo ai{};
  *res = &ai;
  return 0;
}

class GaiBatchTest : public ::testing::Test {
 protected:
  void SetUp() override { g_asked.clear(); }
};

TEST_F(GaiBatchTest, EveryRequestIsCompleteWhenTheCallReturns) {
  gaicb a{};
  a.ar_name = "a.test";
  gaicb b{};
  b.ar_name = "bad.test";
  b.__return = EAI_INPROGRESS;
  gaicb* list[] = {&a, nullptr, &b};
  const GaiBatch r = run_gai_batch(GAI_WAIT, list, 3, nullptr, fake_resolve);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.notify, GaiNotify::None);
  EXPECT_EQ(g_asked, (std::vector<std::string>{"a.test", "bad.test"}));
  EXPECT_EQ(gai_result(&a), 0);
  EXPECT_NE(a.ar_result, nullptr);
  EXPECT_EQ(gai_result(&b), EAI_NONAME);
  EXPECT_EQ(b.ar_result, nullptr);
}

TEST_F(GaiBatchTest, NowaitNotifiesAsTheSigeventAsks) {
  gaicb a{};
  a.ar_name = "a.test";
  gaicb* list[] = {&a};
  sigevent sig{};
  sig.sigev_notify = SIGEV_SIGNAL;
  EXPECT_EQ(run_gai_batch(GAI_NOWAIT, list, 1, &sig, fake_resolve).notify, GaiNotify::Signal);
  sig.sigev_notify = SIGEV_THREAD;
  EXPECT_EQ(run_gai_batch(GAI_NOWAIT, list, 1, &sig, fake_resolve).notify, GaiNotify::Thread);
  sig.sigev_notify = SIGEV_NONE;
  EXPECT_EQ(run_gai_batch(GAI_NOWAIT, list, 1, &sig, fake_resolve).notify, GaiNotify::None);
  EXPECT_EQ(run_gai_batch(GAI_NOWAIT, list, 1, nullptr, fake_resolve).notify, GaiNotify::None);
  // GAI_WAIT ignores the sigevent, as glibc.
  sig.sigev_notify = SIGEV_SIGNAL;
  EXPECT_EQ(run_gai_batch(GAI_WAIT, list, 1, &sig, fake_resolve).notify, GaiNotify::None);
  // glibc notifies also when the list holds no request.
  gaicb* empty[] = {nullptr};
  EXPECT_EQ(run_gai_batch(GAI_NOWAIT, empty, 1, &sig, fake_resolve).notify, GaiNotify::Signal);
}

TEST_F(GaiBatchTest, AnUnknownModeIsEaiSystemWithEinvalAndResolvesNothing) {
  gaicb a{};
  a.ar_name = "a.test";
  a.__return = 12345;
  gaicb* list[] = {&a};
  const GaiBatch r = run_gai_batch(7, list, 1, nullptr, fake_resolve);
  EXPECT_EQ(r.rc, EAI_SYSTEM);
  EXPECT_EQ(r.error, EINVAL);
  EXPECT_TRUE(g_asked.empty());
  EXPECT_EQ(a.__return, 12345);
}

}  // namespace
}  // namespace socksify
