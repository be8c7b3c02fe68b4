#pragma once
// Canonical spelling of the host part of a rule or a request: lowercase, no trailing dot,
// IPv6 literals without brackets in inet_ntop's canonical form. Rules and requests go through
// the same function so that they compare equal exactly when they name the same host.
#include <optional>
#include <string>

namespace cc::net {

enum class HostKind { name, ipv4, ipv6 };

struct CanonicalHost {
  std::string text;  // lowercase name, dotted quad, or canonical IPv6 (no brackets)
  HostKind kind = HostKind::name;
};

// `host` is a name, a dotted-quad IPv4 address or an IPv6 address (brackets optional).
// nullopt with *why set when it is none of these (bad characters, empty or over-long labels,
// ambiguous numeric forms such as "127.1" or "0x7f000001" that resolvers read as addresses).
std::optional<CanonicalHost> canonical_host(const std::string& host, std::string* why);

// Splits "host:port", "[v6]:port", "host" into its parts. The port is nullopt when absent.
// Returns false with *why set on syntax errors (bad port, unbracketed IPv6, stray brackets).
struct HostPort {
  std::string host;  // still raw (brackets removed)
  std::optional<unsigned> port;
};
bool split_host_port(const std::string& text, HostPort* out, std::string* why);

// "[::1]" for IPv6, the text unchanged otherwise (for messages and Host headers).
std::string bracketed(const CanonicalHost& host);

}  // namespace cc::net
