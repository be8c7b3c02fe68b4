#pragma once
// The credential gateway (DESIGN.md section 7, credentials.api "gateway"). Listening sockets
// are created inside the sandbox's network namespace (as the egress proxy's are) and handed
// over; the gateway accepts plain HTTP/1.1 there, in origin form only, and forwards each
// request over verified TLS to the one upstream the config names. On the way it drops every
// credential header the sandbox sent and adds the real one, so the real value never enters
// the sandbox. Bodies stream both ways (server-sent events are relayed as they arrive),
// client connections are kept alive, and many requests run at once.
//
// Each client connection is served on a thread of its own (bounded by max_connections; more
// get 503); its upstream TLS connection is reused while both sides keep theirs open.
//
// Hostile input from the sandbox (absolute URIs, CONNECT, oversized or malformed heads,
// conflicting lengths) gets a 4xx and the gateway keeps serving. Every request is one audit
// record: method, path without the query, status, bytes each way, duration; never headers or
// bodies.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace cc::net {

inline constexpr std::uint16_t kGatewayPort = 3129;

enum class CredentialKind {
  api_key,      // sent as `x-api-key`
  oauth_token,  // `claude setup-token`: sent as `Authorization: Bearer` with the OAuth beta header
};

struct UpstreamCredential {
  CredentialKind kind = CredentialKind::api_key;
  std::string value;
};

struct GatewayLimits {
  std::size_t max_header_bytes = 32 * 1024;
  std::size_t max_connections = 256;
  // A request head must be complete this long after its first byte (the first request of a
  // connection: after the accept), else 408 (slowloris).
  int header_timeout_seconds = 20;
  // No byte either way for this long ends the exchange; it also bounds the wait for the
  // upstream's response head (a long non-streamed reply) and for a kept-alive client's next
  // request.
  int idle_timeout_seconds = 300;
  int connect_timeout_seconds = 15;  // resolution, connect and TLS handshake
};

struct GatewayOptions {
  std::vector<UniqueFd> listeners;   // bound, listening, non-blocking
  std::string upstream;              // https://host[:port][/base-path], from credentials.upstream
  std::string extra_ca_pem;          // credentials.ca_file's content (read by the CLI); empty: none
  UpstreamCredential credential;
  std::filesystem::path audit_log;   // the container's audit log; empty: no records
  GatewayLimits limits;
};

struct GatewayStats {
  std::uint64_t requests = 0;
  std::uint64_t failed = 0;          // answered by the gateway itself (4xx/5xx), not the upstream
  std::uint64_t active_connections = 0;
};

class CredentialGateway {
 public:
  // Throws cc::Error (usage) when the upstream URL is not https://host[:port][/path] or the
  // extra CA bundle holds no certificate.
  explicit CredentialGateway(GatewayOptions options);
  ~CredentialGateway();
  CredentialGateway(const CredentialGateway&) = delete;
  CredentialGateway& operator=(const CredentialGateway&) = delete;

  void run();                   // accept loop; returns after stop() once every exchange ended
  void stop();                  // thread-safe
  GatewayStats stats() const;   // thread-safe

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cc::net
