// IPv4 addresses hidden in IPv6 forms the proxy's address filter (address_filter.cpp) must see
// through. A name in the allow list can resolve to anything its owner's DNS says; where a
// translator (NAT64, SIIT) serves the network, an IPv6 destination of these forms reaches the
// embedded IPv4 address, private and loopback ranges included. Mechanism: the filter judges each
// by the embedded address (or refuses a shape whose embedding it cannot know).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "net/address_filter.hpp"
#include "net/domain_policy.hpp"
#include "net/resolver.hpp"
#include "support/net_netns.hpp"
#include "support/required_feature.hpp"

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

// A user's "deny 11.0.0.7" must also stop a name whose AAAA record is ::ffff:11.0.0.7, which the
// kernel dials as 11.0.0.7. Mechanism: DomainPolicy::denies_address compares a mapped address
// resolved for an allowed name as its IPv4 address too.
TEST(AddressEmbedding, DenyByAddressCoversItsMappedForm) {
  config::Network network;
  network.policy = config::NetworkPolicy::isolated;
  network.allow = {"*.corp.test"};
  network.deny = {"11.0.0.7", "11.0.0.8:22"};
  auto policy = net::DomainPolicy::from_config(network);
  EXPECT_EQ(policy.denies_address("11.0.0.7", 443), std::optional<std::string>("deny:11.0.0.7"));
  EXPECT_EQ(policy.denies_address("::ffff:11.0.0.7", 443), std::optional<std::string>("deny:11.0.0.7"));
  EXPECT_EQ(policy.denies_address("::ffff:11.0.0.8", 22), std::optional<std::string>("deny:11.0.0.8:22"));
  EXPECT_EQ(policy.denies_address("::ffff:11.0.0.8", 443), std::nullopt);
  EXPECT_EQ(policy.denies_address("::ffff:11.0.0.9", 443), std::nullopt);
}

// The kernel dials ::ffff:a.b.c.d from an IPv6 socket as the IPv4 address a.b.c.d: when that is
// one of the host's own addresses, the connection is local (a service bound to 0.0.0.0 there
// is reached past the loopback rule). Mechanism: the resolver marks such a destination as the
// host's own (mark_host_local), whichever form names it. Probed in a network namespace of our
// own whose interface carries an address no other rule refuses.
TEST(AddressEmbedding, MappedFormOfTheHostsOwnAddressIsTheHostsOwn) {
  NetnsChild ns;
  CC_SKIP_UNLESS_FEATURE(ns.ok(), "rootless-engine") << ns.error();
  int rc = ns.run_inside([] {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo:1");  // a second IPv4 address on loopback, labelled lo:1
    auto* in = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
    in->sin_family = AF_INET;
    ::inet_pton(AF_INET, "11.0.0.1", &in->sin_addr);
    if (s < 0 || ::ioctl(s, SIOCSIFADDR, &ifr) != 0) return 10;
    ::close(s);
    // The interface list is cached for a moment (also across the fork): wait until the plain
    // form is seen as the host's own, so the mapped form is judged against the same list.
    bool plain = false;
    for (int i = 0; i < 100 && !plain; ++i) {
      std::vector<net::Endpoint> v4 = {net::numeric_endpoint("11.0.0.1", 22)};
      net::mark_host_local(v4);
      plain = v4[0].host_local;
      if (!plain) ::usleep(50000);
    }
    if (!plain) return 11;
    std::vector<net::Endpoint> mapped = {net::numeric_endpoint("::ffff:11.0.0.1", 22)};
    net::mark_host_local(mapped);
    return mapped[0].host_local ? 0 : 1;
  });
  EXPECT_NE(rc, 10) << "cannot add an address inside the namespace";
  EXPECT_NE(rc, 11) << "the plain form of the namespace's own address is not seen as the host's own";
  EXPECT_EQ(rc, 0) << "::ffff:11.0.0.1 is not seen as the host's own address 11.0.0.1";
}

}  // namespace
}  // namespace cc::test
