// IPv4 addresses hidden in IPv6 forms the proxy's address filter (address_filter.cpp) must see
// through. A name in the allow list can resolve to anything its owner's DNS says; where a
// translator (NAT64, SIIT) serves the network, an IPv6 destination of these forms reaches the
// embedded IPv4 address, private and loopback ranges included. Mechanism: the filter judges each
// by the embedded address (or refuses a shape whose embedding it cannot know).
#include <gtest/gtest.h>

#include "net/address_filter.hpp"
#include "net/resolver.hpp"

namespace cc::test {
namespace {

std::string cls(const std::string& address) {
  auto e = net::numeric_endpoint(address, 443);
  EXPECT_GT(e.length, 0u) << address;
  return net::blocked_address_class(reinterpret_cast<const sockaddr*>(&e.address));
}

// RFC 8215's local-use NAT64 prefix 64:ff9b:1::/48 (the header says NAT64 is judged by the
// embedded address; only the well-known 64:ff9b::/96 was).
TEST(AddressEmbedding, LocalUseNat64PrefixIsJudgedByItsIPv4) {
  EXPECT_EQ(cls("64:ff9b:1::10.0.0.1"), "private");
  EXPECT_EQ(cls("64:ff9b:1::127.0.0.1"), "loopback");
  EXPECT_EQ(cls("64:ff9b:1::169.254.169.254"), "cloud-metadata");
  EXPECT_EQ(cls("64:ff9b:1::8.8.8.8"), "");
  // Shorter translation prefixes inside it put the IPv4 address elsewhere: refused, not guessed.
  EXPECT_NE(cls("64:ff9b:1:a00:1::"), "");
}

// SIIT's IPv4-translated addresses ::ffff:0:a.b.c.d (RFC 2765), next to the mapped ::ffff:a.b.c.d.
TEST(AddressEmbedding, IPv4TranslatedFormIsJudgedByItsIPv4) {
  EXPECT_EQ(cls("::ffff:0:127.0.0.1"), "loopback");
  EXPECT_EQ(cls("::ffff:0:192.168.1.1"), "private");
  EXPECT_EQ(cls("::ffff:0:8.8.8.8"), "");
}

}  // namespace
}  // namespace cc::test
