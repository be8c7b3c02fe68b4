#pragma once
// Runs an EgressProxy on its own thread in the test's (host) namespace, listening on an
// ephemeral 127.0.0.1 port, with its audit log in a temporary directory.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "net/egress_proxy.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace cc::test {

class ProxyHarness {
 public:
  // `more_listeners` (e.g. handed over from a namespace) are served besides the harness's own.
  explicit ProxyHarness(const config::Network& network, net::ProxyLimits limits = {},
                        net::ResolveFunction resolver = {}, std::vector<UniqueFd> more_listeners = {});
  ~ProxyHarness();
  std::uint16_t port() const { return port_; }
  net::EgressProxy& proxy() { return *proxy_; }
  const std::filesystem::path& audit_path() const { return audit_; }
  // The audit records, waiting (bounded) until at least `at_least` are there.
  std::vector<nlohmann::json> audit_records(std::size_t at_least = 0, int timeout_ms = 5000) const;
  UniqueFd connect() const;
  // Connects, sends `raw`, returns everything until the proxy closes (or the deadline).
  std::string exchange(const std::string& raw, int timeout_ms = 5000) const;

 private:
  TempDir dir_;
  std::filesystem::path audit_;
  std::uint16_t port_ = 0;
  std::unique_ptr<net::EgressProxy> proxy_;
  std::thread thread_;
};

// A resolver that knows only the given names (each to its addresses) and numeric addresses.
net::ResolveFunction fake_resolver(std::map<std::string, std::vector<std::string>> names);

config::Network network_config(config::NetworkPolicy policy, std::vector<std::string> allow = {},
                               std::vector<std::string> deny = {});

}  // namespace cc::test
