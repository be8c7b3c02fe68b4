#pragma once
// The egress proxy and the credential gateway parse hostile input from the sandbox, so they run
// in a process of their own (DESIGN.md section 5): this binary re-executed with the internal
// verb `__network-service`, with no capabilities, no_new_privs, a seccomp allowlist and Landlock
// that allows nothing on the filesystem beyond its audit log's directory and reading the name
// resolver's configuration (service_confinement.hpp).
//
// The caller (the native supervisor, or the image engines' host side) hands it listening
// sockets: TCP sockets made inside the sandbox's network namespace, or unix sockets that an
// image engine puts into its container. The settings (policy, gateway upstream, CA text and
// credential) travel over a private socketpair, never argv or the environment; live policy
// changes and statistics are JSON-line messages over the same socketpair.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "net/credential_gateway.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {

inline constexpr const char* kNetworkServiceVerb = "__network-service";

struct NetworkServiceGateway {
  std::string upstream;           // credentials.upstream
  std::string extra_ca_pem;       // credentials.ca_file's content; empty: none
  UpstreamCredential credential;  // lives only in the service's memory (and the caller's)
};

struct NetworkServiceSpec {
  std::vector<UniqueFd> proxy_listeners;    // bound, listening (TCP or unix); empty: no proxy
  std::vector<UniqueFd> gateway_listeners;  // bound, listening (TCP or unix); empty: no gateway
  config::Network network;                  // the effective allow/deny lists and policy
  // Appended and rotated (to <name>.1) by the service; Landlock lets it write, create and
  // remove regular files in this file's directory, which must hold nothing else. Empty: no audit.
  std::filesystem::path audit_log;
  std::optional<NetworkServiceGateway> gateway;
  // The program to run with kNetworkServiceVerb; empty: this binary (/proc/self/exe). Tests,
  // whose binary is not claude-container, name the built one.
  std::filesystem::path executable;
};

struct NetworkServiceStats {
  std::uint64_t allowed = 0;
  std::uint64_t denied = 0;
  std::uint64_t gateway_requests = 0;
};

// The running service, owned by its caller: the destructor stops it (SIGTERM, then SIGKILL)
// and reaps it. Not thread-safe: one thread talks to it. Its stdout and stderr are the caller's
// (the supervisor's log); it ends by itself when the caller's end of the channel closes.
class NetworkService {
 public:
  // Re-executes this binary, hands over the listeners and settings, and returns once the
  // service has checked them (the policy's rules, the listeners). It then loads the trust
  // store (with a gateway) and confines itself before it reads any connection, which wait in
  // the listen backlog meanwhile; a failure there ends the service (in the caller's log, and
  // pidfd() becomes readable). Throws cc::Error with the service's explanation.
  static NetworkService launch(NetworkServiceSpec spec);

  NetworkService(NetworkService&&) noexcept;
  NetworkService& operator=(NetworkService&&) noexcept;
  ~NetworkService();

  void set_network(const config::Network& network);  // live allow/deny; throws cc::Error
  // Answered once the service is confined and serving; throws cc::Error when it does not answer.
  NetworkServiceStats stats();
  pid_t pid() const;
  int pidfd() const;                                  // readable when the service exited
  void stop();                                        // SIGTERM, up to 2 s, SIGKILL; reaps

 private:
  NetworkService() = default;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd channel_;
};

// The internal verb's entry point (called from main before the CLI is built); never returns.
[[noreturn]] void network_service_main(int argc, char** argv);

}  // namespace cc::net
