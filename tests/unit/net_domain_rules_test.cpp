// Domain rules and the policy built from them (DESIGN.md section 6).
#include <gtest/gtest.h>

#include <algorithm>

#include "net/domain_policy.hpp"
#include "util/error.hpp"

using namespace cc;
using namespace cc::net;
using config::NetworkPolicy;

namespace {

config::Network netcfg(NetworkPolicy p, std::vector<std::string> allow = {}, std::vector<std::string> deny = {}) {
  config::Network n;
  n.policy = p;
  n.allow = std::move(allow);
  n.deny = std::move(deny);
  return n;
}

// The message of the usage error a pattern is refused with ("" when accepted).
std::string refusal(const std::string& pattern) {
  try {
    parse_domain_rule(pattern);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage) << pattern;
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DomainRule, ExactHostIsLowercased) {
  auto r = parse_domain_rule("Api.Example.COM");
  EXPECT_EQ(r.host, "api.example.com");
  EXPECT_EQ(r.pattern, "Api.Example.COM");
  EXPECT_FALSE(r.subdomains_only);
  EXPECT_FALSE(r.port.has_value());
}

TEST(DomainRule, WildcardAndPort) {
  auto r = parse_domain_rule("*.example.com:8443");
  EXPECT_EQ(r.host, "example.com");
  EXPECT_TRUE(r.subdomains_only);
  ASSERT_TRUE(r.port.has_value());
  EXPECT_EQ(*r.port, 8443);
}

TEST(DomainRule, AddressesAreCanonical) {
  EXPECT_EQ(parse_domain_rule("192.0.2.7").host, "192.0.2.7");
  auto v6 = parse_domain_rule("[2001:DB8:0:0::1]:443");
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(*v6.port, 443);
  EXPECT_EQ(parse_domain_rule("[::1]").host, "::1");
  EXPECT_EQ(parse_domain_rule("example.com.").host, "example.com");
  EXPECT_EQ(parse_domain_rule("localhost").host, "localhost");
}

TEST(DomainRule, RefusesEveryInvalidClassWithAnExplanation) {
  struct Case {
    std::string pattern;
    std::string says;
  };
  std::vector<Case> cases = {
      {"", "empty"},
      {"*", "full"},
      {"*.com", "top-level"},
      {"*.", "empty"},
      {"exa*mple.com", "first label"},
      {"*example.com", "first label"},
      {"api.*.example.com", "first label"},
      {"example.*", "first label"},
      {"**.example.com", "first label"},
      {"example..com", "empty label"},
      {".example.com", "empty label"},
      {"example.com:", "port"},
      {"example.com:0", "port"},
      {"example.com:65536", "port"},
      {"example.com:80x", "port"},
      {"example.com:-1", "port"},
      {"example.com:+80", "port"},
      {"https://example.com", "scheme"},
      {"example.com/path", "path"},
      {"user@example.com", "user"},
      {"exa mple.com", "spaces"},
      {"exämple.com", "non-ASCII"},
      {"ex!ample.com", "character"},
      {"-example.com", "'-'"},
      {"example-.com", "'-'"},
      {std::string(64, 'a') + ".com", "63"},
      {"2001:db8::1", "brackets"},
      {"[2001:db8::1", "']'"},
      {"[example.com]", "IPv6"},
      {"[::1]x", "':PORT'"},
      {"[zz::1]", "IPv6"},
      {"*.[::1]", "bracket"},
      {"*.192.0.2.7", "addresses"},
      {"1.2.3", "dotted-quad"},
      {"0x7f000001", "dotted-quad"},
      {"999.0.0.1", "dotted-quad"},
  };
  for (const auto& c : cases) {
    std::string message = refusal(c.pattern);
    EXPECT_FALSE(message.empty()) << "accepted: '" << c.pattern << "'";
    EXPECT_NE(message.find(c.says), std::string::npos) << c.pattern << " -> " << message;
    EXPECT_NE(message.find("invalid domain rule"), std::string::npos) << message;
  }
}

TEST(DomainPolicy, WildcardMatchesSubdomainsNotApex) {
  auto p = DomainPolicy::from_config(netcfg(NetworkPolicy::none, {"*.example.com"}));
  EXPECT_TRUE(p.decide("api.example.com", 443).allowed);
  EXPECT_TRUE(p.decide("a.b.example.com", 443).allowed);
  EXPECT_FALSE(p.decide("example.com", 443).allowed);
  EXPECT_FALSE(p.decide("badexample.com", 443).allowed);
  EXPECT_FALSE(p.decide("example.com.evil.org", 443).allowed);
  EXPECT_EQ(p.decide("api.example.com", 443).rule, "allow:*.example.com");
  EXPECT_EQ(p.decide("example.com", 443).rule, "default-deny");
}

TEST(DomainPolicy, ExactDoesNotMatchSubdomains) {
  auto p = DomainPolicy::from_config(netcfg(NetworkPolicy::none, {"example.com"}));
  EXPECT_TRUE(p.decide("example.com", 80).allowed);
  EXPECT_FALSE(p.decide("www.example.com", 80).allowed);
}

TEST(DomainPolicy, PortsRestrictWhenGiven) {
  auto p = DomainPolicy::from_config(netcfg(NetworkPolicy::none, {"example.com:443", "[2001:db8::1]:8443"}));
  EXPECT_TRUE(p.decide("example.com", 443).allowed);
  EXPECT_FALSE(p.decide("example.com", 80).allowed);
  EXPECT_TRUE(p.decide("[2001:db8::1]", 8443).allowed);
  EXPECT_TRUE(p.decide("2001:0db8::0001", 8443).allowed);
  EXPECT_FALSE(p.decide("2001:db8::1", 443).allowed);
}

TEST(DomainPolicy, CaseAndTrailingDotInsensitive) {
  auto p = DomainPolicy::from_config(netcfg(NetworkPolicy::none, {"Example.COM"}, {"Bad.Example.org"}));
  EXPECT_TRUE(p.decide("EXAMPLE.com", 443).allowed);
  EXPECT_TRUE(p.decide("example.com.", 443).allowed);
  auto q = DomainPolicy::from_config(netcfg(NetworkPolicy::full, {}, {"Bad.Example.org"}));
  EXPECT_FALSE(q.decide("bad.example.ORG.", 443).allowed);
}

TEST(DomainPolicy, DenyWinsOverAllowAndPolicy) {
  auto p = DomainPolicy::from_config(
      netcfg(NetworkPolicy::isolated, {"*.example.com", "api.anthropic.com"}, {"secret.example.com", "api.anthropic.com:443"}));
  EXPECT_TRUE(p.decide("www.example.com", 443).allowed);
  auto d = p.decide("secret.example.com", 443);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "deny:secret.example.com");
  EXPECT_FALSE(p.decide("api.anthropic.com", 443).allowed);
  auto full = DomainPolicy::from_config(netcfg(NetworkPolicy::full, {}, {"*.example.com"}));
  EXPECT_TRUE(full.decide("example.org", 443).allowed);
  EXPECT_EQ(full.decide("example.org", 443).rule, "policy:full");
  EXPECT_FALSE(full.decide("a.example.com", 443).allowed);
}

TEST(DomainPolicy, BuiltinLists) {
  auto none = builtin_allow_list(NetworkPolicy::none);
  auto isolated = builtin_allow_list(NetworkPolicy::isolated);
  auto development = builtin_allow_list(NetworkPolicy::development);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(builtin_allow_list(NetworkPolicy::full).empty());
  ASSERT_FALSE(isolated.empty());
  EXPECT_GT(development.size(), isolated.size());
  for (const auto& h : isolated)
    EXPECT_NE(std::find(development.begin(), development.end(), h), development.end()) << h;
  for (const auto& h : development) EXPECT_NO_THROW(parse_domain_rule(h)) << h;

  auto iso = DomainPolicy::from_config(netcfg(NetworkPolicy::isolated));
  EXPECT_TRUE(iso.decide("api.anthropic.com", 443).allowed);
  EXPECT_EQ(iso.decide("api.anthropic.com", 443).rule, "policy:isolated");
  EXPECT_TRUE(iso.decide("platform.claude.com", 443).allowed);
  // Claude Code's /login inside (credentials.api "separate") needs its sign-in hosts: the
  // claude.ai account, the Console's OAuth token exchange and the sign-in redirect.
  for (const char* sign_in : {"claude.ai", "api.claude.ai", "platform.claude.com", "claude.com", "code.claude.com"})
    EXPECT_TRUE(iso.decide(sign_in, 443).allowed) << sign_in;
  EXPECT_FALSE(iso.decide("example.com", 443).allowed);
  // Something development adds is refused by isolated and allowed by development.
  std::string extra;
  for (const auto& h : development)
    if (std::find(isolated.begin(), isolated.end(), h) == isolated.end()) extra = parse_domain_rule(h).host;
  ASSERT_FALSE(extra.empty());
  EXPECT_FALSE(iso.decide(extra, 443).allowed);
  auto dev = DomainPolicy::from_config(netcfg(NetworkPolicy::development));
  EXPECT_TRUE(dev.decide(extra, 443).allowed);
  EXPECT_TRUE(dev.decide("api.anthropic.com", 443).allowed);

  auto nothing = DomainPolicy::from_config(netcfg(NetworkPolicy::none));
  EXPECT_FALSE(nothing.decide("api.anthropic.com", 443).allowed);
}

// A built-in entry without a port (the distribution archives, served over plain HTTP too)
// is a web server: the proxy must not tunnel to its other ports.
TEST(DomainPolicy, BuiltinHostsWithoutAPortMeanWebPortsOnly) {
  auto dev = DomainPolicy::from_config(netcfg(NetworkPolicy::development));
  int portless = 0;
  for (const auto& entry : builtin_allow_list(NetworkPolicy::development)) {
    auto rule = parse_domain_rule(entry);
    if (rule.port) {
      EXPECT_FALSE(dev.decide(rule.host, 80).allowed && *rule.port != 80) << entry;
      continue;
    }
    ++portless;
    EXPECT_TRUE(dev.decide(rule.host, 80).allowed) << entry;
    EXPECT_TRUE(dev.decide(rule.host, 443).allowed) << entry;
    for (std::uint16_t other : {22, 25, 8080, 9418, 6379})
      EXPECT_FALSE(dev.decide(rule.host, other).allowed) << entry << ":" << other;
  }
  EXPECT_GT(portless, 0) << "the test covers no entry without a port";
  // A user's entry without a port still means every port.
  auto user = DomainPolicy::from_config(netcfg(NetworkPolicy::none, {"example.com"}));
  EXPECT_TRUE(user.decide("example.com", 8080).allowed);
}

TEST(DomainPolicy, UserEntriesAddToEveryPolicy) {
  auto p = DomainPolicy::from_config(netcfg(NetworkPolicy::none, {"example.com"}));
  EXPECT_TRUE(p.decide("example.com", 443).allowed);
  EXPECT_EQ(p.policy(), NetworkPolicy::none);
}

TEST(DomainPolicy, InvalidConfigEntriesThrowUsage) {
  try {
    DomainPolicy::from_config(netcfg(NetworkPolicy::isolated, {"*.com"}));
    FAIL() << "accepted *.com";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
  }
}

TEST(DomainPolicy, InvalidRequestHostsAreDenied) {
  auto p = DomainPolicy::from_config(netcfg(NetworkPolicy::full));
  EXPECT_FALSE(p.decide("exa mple.com", 443).allowed);
  EXPECT_EQ(p.decide("", 443).rule, "invalid-host");
}

TEST(DomainPolicy, AddressesNamedLiterally) {
  auto p = DomainPolicy::from_config(netcfg(NetworkPolicy::none, {"127.0.0.1:8080", "[::1]", "*.example.com", "localhost"}));
  EXPECT_TRUE(p.names_address_literally("127.0.0.1"));
  EXPECT_TRUE(p.names_address_literally("::1"));
  EXPECT_TRUE(p.names_address_literally("0:0::1"));
  EXPECT_FALSE(p.names_address_literally("127.0.0.2"));
  EXPECT_FALSE(p.names_address_literally("localhost"));  // a name is not an address
  auto deny = DomainPolicy::from_config(netcfg(NetworkPolicy::full, {"10.0.0.1"}, {"10.0.0.1"}));
  EXPECT_FALSE(deny.names_address_literally("10.0.0.2"));
  EXPECT_TRUE(deny.denies_address("10.0.0.1", 80).has_value());
  EXPECT_FALSE(deny.denies_address("10.0.0.2", 80).has_value());
}
