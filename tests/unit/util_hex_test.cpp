// Hex records of names that may hold any byte: a round trip, and damaged text refused.
#include <gtest/gtest.h>

#include "util/hex.hpp"

namespace cc {
namespace {

TEST(Hex, EveryByteRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(to_hex(std::string("\x00\x1b\xff", 3)), "001bff");
  EXPECT_EQ(from_hex(to_hex(all)), all);
  EXPECT_EQ(from_hex(""), std::string());
}

TEST(Hex, DamagedTextIsRefusedNeverGuessed) {
  EXPECT_FALSE(from_hex("abc").has_value());   // odd length
  EXPECT_FALSE(from_hex("zz").has_value());    // not hex
  EXPECT_FALSE(from_hex("AB").has_value());    // we only ever write lower case
  EXPECT_FALSE(from_hex("0g").has_value());
}

}  // namespace
}  // namespace cc
