#pragma once
// One client connection to the credential gateway, served on its own thread with blocking
// logic over non-blocking sockets (every wait is a poll with a deadline and the gateway's
// wake-up descriptor): requests are read one after another (keep-alive), each checked,
// rewritten and forwarded over the connection's upstream TLS stream (reused while both sides
// keep it), the request body streamed up and the response streamed down as it arrives.
#include <atomic>
#include <cstdint>

#include "net/audit_log.hpp"
#include "net/credential_gateway.hpp"
#include "net/gateway_request.hpp"
#include "net/tls_upstream.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {

// What every connection of one gateway shares; it outlives them all.
struct GatewayContext {
  GatewayUpstream upstream;
  TlsTarget tls_target;
  const TlsClientConfig* tls = nullptr;
  UpstreamCredential credential;
  GatewayLimits limits;
  AuditWriter* audit = nullptr;
  int wake_fd = -1;  // readable once the gateway stops
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> failed{0};
};

// Serves the connection until either side closes, a timeout, or the gateway stops. Runs on a
// thread of its own (it blocks SIGPIPE in it). Never throws: an exception here would end the
// process that runs the gateway.
void serve_gateway_connection(UniqueFd client, GatewayContext& context) noexcept;

}  // namespace cc::net
