// DomainPolicy: the built-in list of a policy plus the user's allow/deny entries; deny wins.
#include "net/domain_policy.hpp"

#include <sys/socket.h>

#include "net/host_name.hpp"

namespace cc::net {
namespace {

bool matches(const DomainRule& rule, const std::string& host, std::uint16_t port, bool web_ports_only = false) {
  if (rule.port && *rule.port != port) return false;
  if (!rule.port && web_ports_only && port != 80 && port != 443) return false;
  if (!rule.subdomains_only) return host == rule.host;
  return host.size() > rule.host.size() + 1 &&
         host.compare(host.size() - rule.host.size(), rule.host.size(), rule.host) == 0 &&
         host[host.size() - rule.host.size() - 1] == '.';
}

const char* policy_name(config::NetworkPolicy policy) {
  switch (policy) {
    case config::NetworkPolicy::none: return "none";
    case config::NetworkPolicy::isolated: return "isolated";
    case config::NetworkPolicy::development: return "development";
    case config::NetworkPolicy::full: return "full";
  }
  return "unknown";
}

std::vector<DomainRule> parse_all(const std::vector<std::string>& patterns) {
  std::vector<DomainRule> rules;
  rules.reserve(patterns.size());
  for (const auto& p : patterns) rules.push_back(parse_domain_rule(p));
  return rules;
}

}  // namespace

DomainPolicy DomainPolicy::from_config(const config::Network& network) {
  DomainPolicy policy;
  policy.policy_ = network.policy;
  policy.builtin_ = parse_all(builtin_allow_list(network.policy));
  policy.allow_ = parse_all(network.allow);
  policy.deny_ = parse_all(network.deny);
  return policy;
}

Decision DomainPolicy::decide(const std::string& raw_host, std::uint16_t port) const {
  auto canonical = canonical_host(raw_host, nullptr);
  if (!canonical) return {false, "invalid-host"};
  const std::string& host = canonical->text;
  for (const auto& rule : deny_)
    if (matches(rule, host, port)) return {false, "deny:" + rule.pattern};
  for (const auto& rule : allow_)
    if (matches(rule, host, port)) return {true, "allow:" + rule.pattern};
  if (policy_ == config::NetworkPolicy::full) return {true, "policy:full"};
  // A built-in host without a port is a web server (the distribution archives): HTTP and
  // HTTPS only, never a tunnel to whatever else listens on that machine.
  for (const auto& rule : builtin_)
    if (matches(rule, host, port, true)) return {true, std::string("policy:") + policy_name(policy_)};
  return {false, "default-deny"};
}

bool DomainPolicy::names_address_literally(const std::string& address) const {
  auto canonical = canonical_host(address, nullptr);
  if (!canonical || canonical->kind == HostKind::name) return false;
  for (const auto& rule : allow_)
    if (!rule.subdomains_only && rule.host == canonical->text) return true;
  return false;
}

std::optional<std::string> DomainPolicy::denies_address(const std::string& address,
                                                        std::uint16_t port) const {
  auto canonical = canonical_host(address, nullptr);
  if (!canonical) return std::nullopt;
  // The kernel dials an IPv4-mapped ::ffff:a.b.c.d as a.b.c.d: a deny entry for that address
  // holds for the mapped form too (a name's AAAA record may be one).
  std::string v4;
  static const std::string kMapped = "::ffff:";
  if (canonical->kind == HostKind::ipv6 && canonical->text.rfind(kMapped, 0) == 0) {
    auto embedded = canonical_host(canonical->text.substr(kMapped.size()), nullptr);
    if (embedded && embedded->kind == HostKind::ipv4) v4 = embedded->text;
  }
  for (const auto& rule : deny_)
    if (matches(rule, canonical->text, port) || (!v4.empty() && matches(rule, v4, port))) return "deny:" + rule.pattern;
  return std::nullopt;
}

}  // namespace cc::net
