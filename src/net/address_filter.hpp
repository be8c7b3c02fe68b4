#pragma once
// Which resolved addresses the proxy refuses to dial: loopback, link-local, private (RFC 1918,
// ULA), CGNAT, multicast, broadcast, unspecified, reserved, cloud-metadata addresses and the
// host's own interface addresses. IPv4 embedded in IPv6 (mapped, compatible, SIIT-translated,
// NAT64 well-known and local-use, 6to4) is judged by the embedded address.
#include <sys/socket.h>

#include <string>

namespace cc::net {

// Empty when the address may be dialed; otherwise the class it belongs to ("loopback",
// "private", "link-local", "cloud-metadata", ...).
std::string blocked_address_class(const sockaddr* address);

// Numeric text of the address, without port or brackets ("127.0.0.1", "::1").
std::string address_text(const sockaddr* address);

}  // namespace cc::net
