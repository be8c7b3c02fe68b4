#pragma once
// What the credential gateway does to a request head from the sandbox before it goes
// upstream: the upstream URL from the config, the checks that keep the request on that one
// upstream, and the rewritten head with the sandbox's credential headers dropped and the real
// credential added.
#include <cstdint>
#include <string>

#include "net/credential_gateway.hpp"
#include "net/host_name.hpp"
#include "net/http_request.hpp"

namespace cc::net {

struct GatewayUpstream {
  CanonicalHost host;
  std::uint16_t port = 443;
  std::string base_path;   // "" or "/prefix" without a trailing slash
  std::string host_header; // "api.anthropic.com", or with ":port" when not 443
};

// Parses credentials.upstream: https://host[:port][/base-path]. Throws cc::Error (usage) for
// anything else (another scheme, user info, a query or fragment, a bad host or port).
GatewayUpstream parse_upstream_url(const std::string& url);

struct GatewayRefusal {
  int status = 0;        // 0: the request may go upstream
  std::string message;
};

// Refuses what would make the request mean something else upstream: a Host naming a host other
// than the gateway's own loopback names or the upstream, several Host headers, a missing Host
// on HTTP/1.1, dot segments in the path, Upgrade.
GatewayRefusal check_gateway_request(const HttpRequest& request, const GatewayUpstream& upstream);

// The head sent upstream: HTTP/1.1, the base path prefixed, Host set to the upstream's, hop-by-hop
// headers, Expect and every credential header (x-api-key, authorization, proxy-*, cookie)
// removed, the real credential added (api key: x-api-key; OAuth token: Authorization: Bearer
// and `oauth-2025-04-20` in anthropic-beta). The connection stays open for the next request.
std::string gateway_request_head(const HttpRequest& request, const GatewayUpstream& upstream,
                                 const UpstreamCredential& credential);

// True when the client asked for `Expect: 100-continue`.
bool expects_continue(const HttpRequest& request);

// True when the client wants the connection kept after this exchange (HTTP/1.1 without
// `Connection: close`).
bool client_keeps_alive(const HttpRequest& request);

}  // namespace cc::net
