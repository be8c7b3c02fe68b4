#include "net/host_name.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace cc::net {
namespace {

bool label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// True when every label is digits or a resolver would read the text as a number (0x.., octal).
bool looks_numeric(const std::string& host) {
  if (host.empty()) return false;
  // The last label decides: real top-level domains are never numeric or hex numbers.
  auto dot = host.rfind('.');
  std::string last = dot == std::string::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  if (last.size() > 2 && last[0] == '0' && last[1] == 'x' &&
      std::all_of(last.begin() + 2, last.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return true;
  return false;
}

}  // namespace

std::optional<CanonicalHost> canonical_host(const std::string& input, std::string* why) {
  auto fail = [&](std::string message) -> std::optional<CanonicalHost> {
    if (why) *why = std::move(message);
    return std::nullopt;
  };
  std::string host = input;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return fail("'" + input + "' is not a valid IPv6 address");
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &a6, buf, sizeof buf);
    return CanonicalHost{buf, HostKind::ipv6};
  }
  if (host.empty()) return fail("the host name is empty");
  if (host.find(':') != std::string::npos) {
    in6_addr a6{};
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return fail("'" + input + "' is not a valid host name or address");
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &a6, buf, sizeof buf);
    return CanonicalHost{buf, HostKind::ipv6};
  }
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (host.size() > 1 && host.back() == '.') host.pop_back();
  if (host.size() > 253) return fail("the host name is longer than 253 characters");
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    size_t end = dot == std::string::npos ? host.size() : dot;
    if (end == start) return fail("'" + input + "' has an empty label (two dots in a row, or a leading dot)");
    if (end - start > 63) return fail("'" + input + "' has a label longer than 63 characters");
    for (size_t i = start; i < end; ++i) {
      if (!label_char(host[i]))
        return fail("'" + input + "' contains the character '" + std::string(1, host[i]) +
                    "', which cannot appear in a host name");
    }
    if (host[start] == '-' || host[end - 1] == '-')
      return fail("'" + input + "' has a label that starts or ends with '-'");
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (looks_numeric(host)) {
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) != 1)
      return fail("'" + input + "' is not a dotted-quad IPv4 address (write all four parts in decimal)");
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a4, buf, sizeof buf);
    return CanonicalHost{buf, HostKind::ipv4};
  }
  return CanonicalHost{host, HostKind::name};
}

bool split_host_port(const std::string& text, HostPort* out, std::string* why) {
  auto fail = [&](std::string message) {
    if (why) *why = std::move(message);
    return false;
  };
  std::string host, port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return fail("'" + text + "' opens '[' without closing ']'");
    host = text.substr(1, close - 1);
    if (host.find(':') == std::string::npos) return fail("brackets are only for IPv6 addresses, as in [2001:db8::1]:443");
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail("'" + text + "' has text after ']' that is not ':PORT'");
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    auto colons = std::count(text.begin(), text.end(), ':');
    if (colons > 1) return fail("'" + text + "' looks like an IPv6 address: write it in brackets, as in [" + text + "]");
    if (text.find('[') != std::string::npos || text.find(']') != std::string::npos)
      return fail("'" + text + "' has a stray bracket");
    auto colon = text.find(':');
    if (colon == std::string::npos) {
      host = text;
    } else {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      has_port = true;
    }
  }
  out->host = host;
  out->port.reset();
  if (has_port) {
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail("the port in '" + text + "' must be a number from 1 to 65535");
    unsigned value = static_cast<unsigned>(std::stoul(port));
    if (value < 1 || value > 65535) return fail("the port in '" + text + "' must be a number from 1 to 65535");
    out->port = value;
  }
  return true;
}

std::string bracketed(const CanonicalHost& host) {
  return host.kind == HostKind::ipv6 ? "[" + host.text + "]" : host.text;
}

}  // namespace cc::net
