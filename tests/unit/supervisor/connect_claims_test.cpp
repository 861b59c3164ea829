// The supervisor's claims on sockets with a connect under way: one at a time
// per socket, EISCONN for a socket our tunnel replaced.
#include "supervisor/connect_claims.hpp"

#include <gtest/gtest.h>

namespace socksify::supervisor {
namespace connect_claims_test {

using State = ConnectClaims::State;

TEST(ConnectClaims, ASecondConnectOnTheSameSocketFindsTheFirstInFlight) {
  ConnectClaims claims;
  ConnectClaim first(claims, 7);
  EXPECT_EQ(first.state(), State::Claimed);
  ConnectClaim second(claims, 7);
  EXPECT_EQ(second.state(), State::InFlight);
  ConnectClaim other(claims, 8);  // another socket is not held up
  EXPECT_EQ(other.state(), State::Claimed);
}

TEST(ConnectClaims, TheLosersEndDoesNotReleaseTheWinnersClaim) {
  ConnectClaims claims;
  ConnectClaim winner(claims, 7);
  { ConnectClaim loser(claims, 7); }
  ConnectClaim third(claims, 7);
  EXPECT_EQ(third.state(), State::InFlight);
}

TEST(ConnectClaims, AReleasedSocketCanBeClaimedAgain) {
  ConnectClaims claims;
  { ConnectClaim failed(claims, 7); }  // a connect that failed: the program may try again
  ConnectClaim again(claims, 7);
  EXPECT_EQ(again.state(), State::Claimed);
}

TEST(ConnectClaims, ASwappedSocketAnswersConnectedFromThenOn) {
  ConnectClaims claims;
  {
    ConnectClaim winner(claims, 7);
    winner.swapped();
    ConnectClaim during(claims, 7);
    EXPECT_EQ(during.state(), State::InFlight);
  }
  ConnectClaim after(claims, 7);
  EXPECT_EQ(after.state(), State::Swapped);
  ConnectClaim and_again(claims, 7);
  EXPECT_EQ(and_again.state(), State::Swapped);
}

TEST(ConnectClaims, TheOldestSwappedSocketsAreForgottenPastTheBound) {
  ConnectClaims claims;
  for (ino_t ino = 1; ino <= ConnectClaims::kMaxSwapped + 1; ++ino) {
    ConnectClaim c(claims, ino);
    c.swapped();
  }
  EXPECT_EQ(claims.claim(1), State::Claimed);
  EXPECT_EQ(claims.claim(2), State::Swapped);
  EXPECT_EQ(claims.claim(ConnectClaims::kMaxSwapped + 1), State::Swapped);
}

}  // namespace connect_claims_test
}  // namespace socksify::supervisor
