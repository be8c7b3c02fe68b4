#include "support/net_proxy_harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

#include "net/domain_policy.hpp"
#include "support/net_upstream.hpp"

namespace cc::test {

ProxyHarness::ProxyHarness(const config::Network& network, net::ProxyLimits limits, net::ResolveFunction resolver,
                           std::vector<UniqueFd> more_listeners)
    : dir_("cc-net-proxy"), audit_(dir_ / "network.jsonl") {
  UniqueFd listener = listen_on_loopback(&port_, "proxy");
  net::ProxyOptions options;
  options.listeners.push_back(std::move(listener));
  for (auto& l : more_listeners) options.listeners.push_back(std::move(l));
  options.policy = net::DomainPolicy::from_config(network);
  options.audit_log = audit_;
  options.limits = limits;
  options.resolver = std::move(resolver);
  proxy_ = std::make_unique<net::EgressProxy>(std::move(options));
  thread_ = std::thread([this] { proxy_->run(); });
}

ProxyHarness::~ProxyHarness() {
  proxy_->stop();
  thread_.join();
}

std::vector<nlohmann::json> ProxyHarness::audit_records(std::size_t at_least, int timeout_ms) const {
  return audit_records_in(audit_, at_least, timeout_ms);
}

UniqueFd ProxyHarness::connect() const { return connect_tcp("127.0.0.1", port_); }

std::string ProxyHarness::exchange(const std::string& raw, int timeout_ms) const {
  UniqueFd fd = connect();
  if (!fd) return "";
  send_all(fd.get(), raw);
  return read_until_close(fd.get(), timeout_ms);
}

net::ResolveFunction fake_resolver(std::map<std::string, std::vector<std::string>> names) {
  return [names = std::move(names)](const std::string& host, std::uint16_t port) {
    net::ResolveResult result;
    auto numeric = net::numeric_endpoint(host, port);
    if (numeric.length) {
      result.endpoints.push_back(numeric);
      return result;
    }
    auto it = names.find(host);
    if (it == names.end()) {
      result.error = "cannot resolve " + host + ": unknown name (test resolver)";
      return result;
    }
    for (const auto& address : it->second) result.endpoints.push_back(net::numeric_endpoint(address, port));
    return result;
  };
}

config::Network network_config(config::NetworkPolicy policy, std::vector<std::string> allow,
                               std::vector<std::string> deny) {
  config::Network n;
  n.policy = policy;
  n.allow = std::move(allow);
  n.deny = std::move(deny);
  return n;
}

}  // namespace cc::test
