#pragma once
// Domain rules (DESIGN.md section 6): `example.com` exact, `*.example.com` subdomains only,
// optional `:port`, bracketed IPv6 literals, case-insensitive; deny wins.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::net {

struct DomainRule {
  std::string pattern;          // as written by the user, for the audit log
  std::string host;             // lowercased; without "*." for wildcard rules
  bool subdomains_only = false; // "*.example.com"
  std::optional<std::uint16_t> port;
};

// Throws cc::Error (usage) with an explanation for invalid patterns such as "*.com" or "exa*mple.com".
DomainRule parse_domain_rule(const std::string& pattern);

struct Decision {
  bool allowed = false;
  std::string rule;             // the matching rule, or "policy:<name>" / "default-deny"
};

class DomainPolicy {
 public:
  DomainPolicy() = default;
  // The built-in list for the policy plus the config's allow/deny entries.
  static DomainPolicy from_config(const config::Network& network);

  Decision decide(const std::string& host, std::uint16_t port) const;
  // True when an allow entry names this literal address (lets tests and users reach private IPs).
  bool names_address_literally(const std::string& address) const;
  // The deny entry naming this resolved address (so "deny 192.0.2.7" also stops a name that
  // resolves to it, or another spelling of it), or nullopt.
  std::optional<std::string> denies_address(const std::string& address, std::uint16_t port) const;
  config::NetworkPolicy policy() const { return policy_; }

 private:
  config::NetworkPolicy policy_ = config::NetworkPolicy::none;
  std::vector<DomainRule> builtin_;
  std::vector<DomainRule> allow_;
  std::vector<DomainRule> deny_;
};

// Hosts each policy allows before user entries (from Claude Code's documented requirements).
// An entry without a port allows ports 80 and 443 only (a user's entry without one: every port).
std::vector<std::string> builtin_allow_list(config::NetworkPolicy policy);

}  // namespace cc::net
