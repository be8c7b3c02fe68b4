#pragma once
// Name resolution off the event loop: a few worker threads run getaddrinfo (or a test's
// override) and hand results back through an eventfd the loop polls, so a slow or dead DNS
// server never stalls other connections.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cc::net {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
  bool host_local = false;  // one of this host's own interface addresses (set by the resolver)
};

struct ResolveResult {
  std::vector<Endpoint> endpoints;  // with the port filled in
  std::string error;                // empty on success
};

// Resolves `host` (a canonical name or numeric address) for TCP to `port`. Runs on a worker.
using ResolveFunction = std::function<ResolveResult(const std::string& host, std::uint16_t port)>;

ResolveResult system_resolve(const std::string& host, std::uint16_t port);

// Marks the endpoints that are addresses of this host's own interfaces (list cached ~2 s).
void mark_host_local(std::vector<Endpoint>& endpoints);

// An Endpoint for a numeric address ("127.0.0.1", "::1"); length 0 when not numeric.
Endpoint numeric_endpoint(const std::string& address, std::uint16_t port);

class AsyncResolver {
 public:
  // `notify_fd` is an eventfd; the resolver keeps its own duplicate of it.
  AsyncResolver(ResolveFunction resolve, int notify_fd, unsigned threads = 4);
  // Does not wait for lookups in progress: their threads finish on their own and their results
  // are dropped.
  ~AsyncResolver();
  AsyncResolver(const AsyncResolver&) = delete;
  AsyncResolver& operator=(const AsyncResolver&) = delete;

  void submit(std::uint64_t ticket, std::string host, std::uint16_t port);
  std::vector<std::pair<std::uint64_t, ResolveResult>> take_completed();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace cc::net
