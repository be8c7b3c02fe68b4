#pragma once
// The egress proxy the native supervisor runs for every policy except `full` (DESIGN.md
// section 6). Listening sockets are created inside the sandbox's network namespace and handed
// over; the proxy accepts on them and dials out from the host namespace after the policy allows.
//
// One request per client connection: a plain-HTTP request is forwarded with `Connection:
// close` and the connection ends with the upstream's response; bytes a client sends after the
// request body are dropped (clients open a new connection, as they do when a server closes).
// CONNECT tunnels carry anything until either side closes (half-closes are forwarded).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/domain_policy.hpp"
#include "net/resolver.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {

struct ProxyLimits {
  std::size_t max_header_bytes = 32 * 1024;
  std::size_t max_connections = 4096;
  int idle_timeout_seconds = 300;
  int connect_timeout_seconds = 15;        // resolution plus connect, else 504
  int header_timeout_seconds = 20;         // whole request head must arrive by then (slowloris)
  // Connections still sending their request head, overall and per client (address; pid for
  // unix sockets). Past either, or at max_connections, the one that waited longest goes (503)
  // so that a new client always gets its turn: slow heads cannot starve the others.
  std::size_t max_pending_heads = 256;
  std::size_t max_pending_heads_per_peer = 64;
  bool zero_copy = true;                   // splice(2) through pipes; false: copy through buffers
};

struct ProxyStats {
  std::uint64_t allowed = 0;
  std::uint64_t denied = 0;
  std::uint64_t active_connections = 0;
  std::uint64_t evicted_heads = 0;  // unfinished heads closed to make room (max_pending_heads*)
};

struct ProxyOptions {
  std::vector<UniqueFd> listeners;            // bound, listening, non-blocking
  DomainPolicy policy;
  std::filesystem::path audit_log;            // one JSON line per decision, appended
  ProxyLimits limits;
  ResolveFunction resolver;                   // empty: getaddrinfo on worker threads (tests override)
};

class EgressProxy {
 public:
  explicit EgressProxy(ProxyOptions options);
  ~EgressProxy();
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;

  void run();                                 // event loop; returns after stop()
  void stop();                                // thread-safe
  void set_policy(DomainPolicy policy);       // thread-safe, applies to new requests
  ProxyStats stats() const;                   // thread-safe

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cc::net
