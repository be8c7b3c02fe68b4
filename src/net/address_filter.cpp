#include "net/address_filter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>

namespace cc::net {
namespace {

struct V4Range {
  std::uint32_t base;
  int prefix;
  const char* what;
};

constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// Order matters: the more specific metadata entries come before their enclosing ranges.
constexpr V4Range kBlockedV4[] = {
    {ip4(169, 254, 169, 254), 32, "cloud-metadata"},
    {ip4(100, 100, 100, 200), 32, "cloud-metadata"},
    {ip4(168, 63, 129, 16), 32, "cloud-metadata"},
    {ip4(192, 0, 0, 192), 32, "cloud-metadata"},
    {ip4(0, 0, 0, 0), 8, "unspecified"},
    {ip4(10, 0, 0, 0), 8, "private"},
    {ip4(100, 64, 0, 0), 10, "carrier-grade-nat"},
    {ip4(127, 0, 0, 0), 8, "loopback"},
    {ip4(169, 254, 0, 0), 16, "link-local"},
    {ip4(172, 16, 0, 0), 12, "private"},
    {ip4(192, 0, 0, 0), 24, "reserved"},
    {ip4(192, 0, 2, 0), 24, "documentation"},     // TEST-NET-1 (RFC 5737)
    {ip4(192, 168, 0, 0), 16, "private"},
    {ip4(198, 18, 0, 0), 15, "benchmarking"},     // RFC 2544
    {ip4(198, 51, 100, 0), 24, "documentation"},  // TEST-NET-2
    {ip4(203, 0, 113, 0), 24, "documentation"},   // TEST-NET-3
    {ip4(224, 0, 0, 0), 4, "multicast"},
    {ip4(240, 0, 0, 0), 4, "reserved"},  // includes 255.255.255.255 broadcast
};

std::string classify_v4(std::uint32_t a) {
  for (const auto& r : kBlockedV4) {
    std::uint32_t mask = r.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - r.prefix);
    if ((a & mask) == (r.base & mask)) return r.what;
  }
  return "";
}

std::uint32_t v4_at(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

std::string classify_v6(const unsigned char* b) {
  static const unsigned char zero[16] = {};
  if (std::memcmp(b, zero, 16) == 0) return "unspecified";
  if (std::memcmp(b, zero, 15) == 0 && b[15] == 1) return "loopback";
  // fd00:ec2::254, AWS's IPv6 metadata endpoint (inside the ULA range, named for clarity)
  static const unsigned char aws[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (std::memcmp(b, aws, 16) == 0) return "cloud-metadata";
  // IPv4-mapped ::ffff:a.b.c.d and the deprecated IPv4-compatible ::a.b.c.d
  if (std::memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff) {
    auto c = classify_v4(v4_at(b + 12));
    return c;
  }
  if (std::memcmp(b, zero, 12) == 0) {
    auto c = classify_v4(v4_at(b + 12));
    return c.empty() ? "reserved" : c;
  }
  // SIIT's IPv4-translated ::ffff:0:a.b.c.d: a translator turns it into the IPv4 address
  if (std::memcmp(b, zero, 8) == 0 && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
    return classify_v4(v4_at(b + 12));
  // NAT64 64:ff9b::/96 and 64:ff9b:1::/48: judged by the embedded IPv4 address. The local-use
  // /48 holds it in the last 32 bits only when its operator chose a /96 under it; other
  // prefix lengths put it elsewhere, so those are refused rather than guessed.
  static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, nat64, 12) == 0) return classify_v4(v4_at(b + 12));
  static const unsigned char nat64_local[6] = {0, 0x64, 0xff, 0x9b, 0, 0x01};
  if (std::memcmp(b, nat64_local, 6) == 0) {
    if (std::memcmp(b + 6, zero, 6) != 0) return "reserved";
    return classify_v4(v4_at(b + 12));
  }
  // 6to4 2002:AABB:CCDD::/48 carries the IPv4 address in bits 16..47
  if (b[0] == 0x20 && b[1] == 0x02) return classify_v4(v4_at(b + 2));
  if (b[0] == 0xff) return "multicast";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local";
  if ((b[0] & 0xfe) == 0xfc) return "private";  // ULA fc00::/7
  // 2001:db8::/32 documentation, 100::/64 discard
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "documentation";
  if (b[0] == 0x01 && b[1] == 0x00 && std::memcmp(b + 2, zero, 6) == 0) return "reserved";
  return "";
}

}  // namespace

std::string blocked_address_class(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return classify_v4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return classify_v6(in6->sin6_addr.s6_addr);
  }
  return "unsupported-family";
}

std::string address_text(const sockaddr* address) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, buf, sizeof buf);
  else if (address->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, buf, sizeof buf);
  return buf;
}

}  // namespace cc::net
