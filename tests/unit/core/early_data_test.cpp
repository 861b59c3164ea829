// take_replies on a socket pair: the proxy's replies to an early-data
// handshake are read and kept from the program, never a byte of its data; a
// refusal is the error of that first read, once; replies not all here yet are
// EAGAIN without blocking.
#include "core/early_data.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace socksify {
namespace {

const std::string kNoAuth("\x05\x00", 2);
const std::string kReplyOk("\x05\x00\x00\x01\x0a\x09\x09\x09\x10\x92", 10);
const std::string kRefused("\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", 10);

struct Pair {
  int program = -1;  // our end: the program's socket
  int proxy = -1;
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    program = sv[0];
    proxy = sv[1];
  }
  ~Pair() {
    close(program);
    close(proxy);
  }
  void send(const std::string& s) const {
    ASSERT_EQ(write(proxy, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  std::string read_all_now() const {
    char buf[256];
    const ssize_t n = recv(program, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
};

EarlyTunnel tunnel(bool with_password = false) {
  return EarlyTunnel(with_password, Endpoint{}, 0);
}

TEST(EarlyData, RepliesAreTakenAndTheDataThatFollowsIsLeft) {
  Pair p;
  EarlyTunnel t = tunnel();
  t.due = true;
  p.send(kNoAuth + kReplyOk + "HTTP/1.1 200 OK");
  errno = 1234;
  EXPECT_EQ(take_replies(p.program, t, false), 0);
  EXPECT_EQ(errno, 1234);
  EXPECT_FALSE(t.due.load());
  EXPECT_EQ(p.read_all_now(), "HTTP/1.1 200 OK");
  // Not due any more: nothing else is read.
  p.send("more");
  EXPECT_EQ(take_replies(p.program, t, true), 0);
  EXPECT_EQ(p.read_all_now(), "more");
}

TEST(EarlyData, RepliesNotAllHereAreEagainThenTheRest) {
  Pair p;
  EarlyTunnel t = tunnel();
  t.due = true;
  p.send(kNoAuth + kReplyOk.substr(0, 3));
  EXPECT_EQ(take_replies(p.program, t, true), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_TRUE(t.due.load());
  p.send(kReplyOk.substr(3) + "x");
  EXPECT_EQ(take_replies(p.program, t, true), 0);
  EXPECT_EQ(p.read_all_now(), "x");
}

TEST(EarlyData, ARefusalIsTheFirstReadsErrorOnce) {
  Pair p;
  EarlyTunnel t = tunnel();
  t.due = true;
  p.send(kNoAuth + kRefused);
  EXPECT_EQ(take_replies(p.program, t, false), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_FALSE(t.due.load());
  // Reported: the socket is shut down and answers for itself from now on.
  EXPECT_EQ(take_replies(p.program, t, false), 0);
  char c;
  EXPECT_EQ(recv(p.program, &c, 1, MSG_DONTWAIT), 0);
}

TEST(EarlyData, AHangUpBeforeTheReplyIsEconnreset) {
  Pair p;
  EarlyTunnel t = tunnel(true);
  t.due = true;
  p.send(std::string("\x05\x02", 2));
  shutdown(p.proxy, SHUT_WR);
  EXPECT_EQ(take_replies(p.program, t, false), -1);
  EXPECT_EQ(errno, ECONNRESET);
}

TEST(EarlyData, AWriteGoesOutWhileTheRepliesAreOnTheirWayAndFailsAfterARefusal) {
  Pair p;
  EarlyTunnel t = tunnel();
  t.due = true;
  errno = 77;
  EXPECT_EQ(early_write_check(p.program, t), 0);  // nothing here yet
  EXPECT_EQ(errno, 77);
  EXPECT_TRUE(t.due.load());
  p.send(kNoAuth + kRefused);
  EXPECT_EQ(early_write_check(p.program, t), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
}

}  // namespace
}  // namespace socksify
