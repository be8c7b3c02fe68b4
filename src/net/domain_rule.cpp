// parse_domain_rule: turns what a user writes after `allow`/`deny` (or in config.json) into a
// DomainRule, refusing anything whose meaning would be surprising.
#include <algorithm>

#include "net/domain_policy.hpp"
#include "net/host_name.hpp"
#include "util/error.hpp"

namespace cc::net {
namespace {

[[noreturn]] void refuse(const std::string& pattern, const std::string& why) {
  throw usage_error("invalid domain rule '" + pattern + "': " + why +
                    ". Write a host such as example.com, *.example.com for its subdomains, "
                    "an address such as 192.0.2.7 or [2001:db8::1], optionally followed by :PORT.");
}

}  // namespace

DomainRule parse_domain_rule(const std::string& pattern) {
  if (pattern.empty()) refuse(pattern, "it is empty");
  if (std::any_of(pattern.begin(), pattern.end(),
                  [](unsigned char c) { return c <= ' ' || c >= 0x7f; }))
    refuse(pattern, "it contains spaces, control or non-ASCII characters (write IDN names in their xn-- form)");
  if (pattern.find("://") != std::string::npos) refuse(pattern, "rules name hosts, not URLs: leave out the scheme");
  if (pattern.find('/') != std::string::npos) refuse(pattern, "rules name hosts, not URLs: leave out the path");
  if (pattern.find('@') != std::string::npos) refuse(pattern, "rules name hosts: leave out user names");

  HostPort parts;
  std::string why;
  if (!split_host_port(pattern, &parts, &why)) refuse(pattern, why);

  DomainRule rule;
  rule.pattern = pattern;
  if (parts.port) rule.port = static_cast<std::uint16_t>(*parts.port);
  std::string host = parts.host;
  bool bracketed_v6 = !pattern.empty() && pattern.front() == '[';

  if (host == "*") refuse(pattern, "'*' alone would allow every host; choose the `full` network policy instead");
  if (!bracketed_v6 && host.rfind("*.", 0) == 0) {
    rule.subdomains_only = true;
    host = host.substr(2);
  }
  if (host.find('*') != std::string::npos)
    refuse(pattern, "'*' is only allowed as the whole first label, as in *.example.com");
  if (host.empty()) refuse(pattern, "the host is empty");

  auto canonical = canonical_host(bracketed_v6 ? "[" + host + "]" : host, &why);
  if (!canonical) refuse(pattern, why);
  if (rule.subdomains_only) {
    if (canonical->kind != HostKind::name) refuse(pattern, "'*.' applies to names, not to addresses");
    if (canonical->text.find('.') == std::string::npos)
      refuse(pattern, "'*." + canonical->text +
                          "' would match every host in a top-level domain; name at least two labels after '*.'");
  }
  rule.host = canonical->text;
  return rule;
}

}  // namespace cc::net
