// cidr(AF_INET, "240.0.0.0", 4): a Cidr built by hand for tests, so tests of
// the code that uses networks do not depend on parse_cidr.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "base/cidr.hpp"

namespace socksify::testing {

inline Cidr cidr(int family, const char* text, std::uint8_t prefix) {
  Cidr c;
  c.family = static_cast<std::uint8_t>(family);
  c.prefix = prefix;
  EXPECT_EQ(inet_pton(family, text, c.bytes), 1) << text;
  return c;
}

}  // namespace socksify::testing
