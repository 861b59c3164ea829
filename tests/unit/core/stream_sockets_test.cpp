#include "core/stream_sockets.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace socksify {
namespace stream_sockets_test {
namespace {

std::unique_ptr<StreamSockets> fresh() {
  return std::make_unique<StreamSockets>();  // 128 KiB: not on the stack
}

TEST(StreamSockets, ABitPerDescriptorSetAndForgotten) {
  auto s = fresh();
  EXPECT_FALSE(s->is_stream(3));
  s->set(3, true);
  s->set(64, true);
  EXPECT_TRUE(s->is_stream(3));
  EXPECT_TRUE(s->is_stream(64));
  EXPECT_FALSE(s->is_stream(4));
  EXPECT_FALSE(s->is_stream(63));
  s->set(3, false);  // the number now holds another kind of file
  EXPECT_FALSE(s->is_stream(3));
  s->forget(64);
  EXPECT_FALSE(s->is_stream(64));
}

TEST(StreamSockets, OutOfRangeNumbersAreNeverStreams) {
  auto s = fresh();
  s->set(-1, true);
  s->set(StreamSockets::kCapacity, true);
  EXPECT_FALSE(s->is_stream(-1));
  EXPECT_FALSE(s->is_stream(StreamSockets::kCapacity));
  s->set(StreamSockets::kCapacity - 1, true);
  EXPECT_TRUE(s->is_stream(StreamSockets::kCapacity - 1));
}

TEST(StreamSockets, ForgettingARangeClearsExactlyIt) {
  auto s = fresh();
  for (int fd : {5, 6, 63, 64, 127, 128, 200, 1000}) s->set(fd, true);
  s->forget_range(6, 128);  // partial words at both ends, one whole word inside
  EXPECT_TRUE(s->is_stream(5));
  for (int fd : {6, 63, 64, 127, 128}) EXPECT_FALSE(s->is_stream(fd)) << fd;
  EXPECT_TRUE(s->is_stream(200));
  EXPECT_TRUE(s->is_stream(1000));
  s->set(StreamSockets::kCapacity - 1, true);
  s->forget_range(100, ~0u);  // closefrom(100): up to the last number we track
  EXPECT_TRUE(s->is_stream(5));
  EXPECT_FALSE(s->is_stream(200));
  EXPECT_FALSE(s->is_stream(1000));
  EXPECT_FALSE(s->is_stream(StreamSockets::kCapacity - 1));
}

}  // namespace
}  // namespace stream_sockets_test
}  // namespace socksify
