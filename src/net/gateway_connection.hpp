#pragma once
// One client connection to the credential gateway, served on its own thread with blocking
// logic over non-blocking sockets (every wait is a poll with a deadline and the gateway's
// wake-up descriptor): requests are read one after another (keep-alive), each checked,
// rewritten and forwarded over the connection's upstream TLS stream (reused while both sides
// keep it), the request body streamed up and the response streamed down as it arrives.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>

#include "net/audit_log.hpp"
#include "net/credential_gateway.hpp"
#include "net/gateway_request.hpp"
#include "net/tls_upstream.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {

// The connections waiting for a request head (their first, or the next on a kept-alive
// connection), in the order they began to wait. At the connection limit the gateway ends the
// one that waited longest, as the egress proxy does: slow heads and idle kept-alive
// connections from the sandbox cannot hold every slot for their timeouts.
class HeadWaiters {
 public:
  // The connection on `fd` waits for a head from now; end(ticket) before the fd is closed.
  // end() is false when the connection was evicted meanwhile: it must not serve that head.
  std::uint64_t begin(int fd);
  void head_started(std::uint64_t ticket);  // the first bytes of the head arrived
  bool end(std::uint64_t ticket);
  // Shuts the longest waiting one's socket (its thread then ends), after a 503 when part of a
  // head arrived (an idle kept-alive connection is closed silently, as servers do); false when
  // none waits.
  bool evict_oldest();

 private:
  struct Waiter {
    int fd;
    bool started;
  };
  std::mutex mutex_;
  std::map<std::uint64_t, Waiter> waiting_;  // by ticket, in order
  std::uint64_t next_ = 1;
};

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
  HeadWaiters waiters;
};

// Serves the connection until either side closes, a timeout, or the gateway stops. Runs on a
// thread of its own (it blocks SIGPIPE in it). Never throws: an exception here would end the
// process that runs the gateway.
void serve_gateway_connection(UniqueFd client, GatewayContext& context) noexcept;

}  // namespace cc::net
