// Which resolved addresses the proxy refuses to dial.
#include <gtest/gtest.h>

#include "net/address_filter.hpp"
#include "net/resolver.hpp"

using namespace cc::net;

namespace {
std::string cls(const std::string& address) {
  auto e = numeric_endpoint(address, 443);
  EXPECT_GT(e.length, 0u) << address;
  return blocked_address_class(reinterpret_cast<const sockaddr*>(&e.address));
}
}  // namespace

TEST(NetAddressFilter, BlocksNonPublicIPv4) {
  EXPECT_EQ(cls("127.0.0.1"), "loopback");
  EXPECT_EQ(cls("127.255.0.9"), "loopback");
  EXPECT_EQ(cls("10.1.2.3"), "private");
  EXPECT_EQ(cls("172.16.0.1"), "private");
  EXPECT_EQ(cls("172.31.255.255"), "private");
  EXPECT_EQ(cls("192.168.1.1"), "private");
  EXPECT_EQ(cls("100.64.0.1"), "carrier-grade-nat");
  EXPECT_EQ(cls("169.254.1.1"), "link-local");
  EXPECT_EQ(cls("169.254.169.254"), "cloud-metadata");
  EXPECT_EQ(cls("100.100.100.200"), "cloud-metadata");
  EXPECT_EQ(cls("168.63.129.16"), "cloud-metadata");
  EXPECT_EQ(cls("0.0.0.0"), "unspecified");
  EXPECT_EQ(cls("224.0.0.1"), "multicast");
  EXPECT_EQ(cls("255.255.255.255"), "reserved");
}

// Nothing real lives there: a name resolving into them is a test or a trick, never a service.
TEST(NetAddressFilter, BlocksDocumentationAndBenchmarkRanges) {
  EXPECT_EQ(cls("192.0.2.1"), "documentation");
  EXPECT_EQ(cls("198.51.100.255"), "documentation");
  EXPECT_EQ(cls("203.0.113.7"), "documentation");
  EXPECT_EQ(cls("198.18.0.1"), "benchmarking");
  EXPECT_EQ(cls("198.19.255.254"), "benchmarking");
  EXPECT_EQ(cls("2001:db8::1"), "documentation");
  EXPECT_EQ(cls("2001:db8:ffff::1"), "documentation");
  EXPECT_EQ(cls("::ffff:203.0.113.7"), "documentation");
  // Their neighbours are public.
  EXPECT_EQ(cls("192.0.3.1"), "");
  EXPECT_EQ(cls("198.20.0.1"), "");
  EXPECT_EQ(cls("198.51.101.1"), "");
  EXPECT_EQ(cls("203.0.114.1"), "");
  EXPECT_EQ(cls("2001:db9::1"), "");
}

TEST(NetAddressFilter, AllowsPublicAddresses) {
  EXPECT_EQ(cls("8.8.8.8"), "");
  EXPECT_EQ(cls("172.32.0.1"), "");
  EXPECT_EQ(cls("100.128.0.1"), "");
  EXPECT_EQ(cls("2606:4700::1111"), "");
}

TEST(NetAddressFilter, BlocksNonPublicIPv6AndEmbeddedIPv4) {
  EXPECT_EQ(cls("::"), "unspecified");
  EXPECT_EQ(cls("::1"), "loopback");
  EXPECT_EQ(cls("fe80::1"), "link-local");
  EXPECT_EQ(cls("fc00::1"), "private");
  EXPECT_EQ(cls("fd12:3456::1"), "private");
  EXPECT_EQ(cls("fd00:ec2::254"), "cloud-metadata");
  EXPECT_EQ(cls("ff02::1"), "multicast");
  EXPECT_EQ(cls("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(cls("::ffff:169.254.169.254"), "cloud-metadata");
  EXPECT_EQ(cls("::ffff:8.8.8.8"), "");
  EXPECT_EQ(cls("64:ff9b::10.0.0.1"), "private");
  EXPECT_EQ(cls("2002:c0a8:0101::1"), "private");  // 6to4 of 192.168.1.1
  EXPECT_EQ(cls("::127.0.0.1"), "loopback");
}

TEST(NetAddressFilter, AddressText) {
  auto e = numeric_endpoint("2001:db8::1", 1);
  EXPECT_EQ(address_text(reinterpret_cast<const sockaddr*>(&e.address)), "2001:db8::1");
  EXPECT_EQ(numeric_endpoint("example.com", 1).length, 0u);
}
