#include "integrations/mcp_setup.hpp"

#include <algorithm>

#include "integrations/mcp_catalog.hpp"
#include "net/domain_policy.hpp"

namespace cc::integrations {
namespace {

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// "host:port" -> host and port (443 when none is written).
std::pair<std::string, std::uint16_t> split_host_port(const std::string& entry) {
  auto colon = entry.rfind(':');
  if (colon == std::string::npos) return {entry, 443};
  return {entry.substr(0, colon), static_cast<std::uint16_t>(std::stoi(entry.substr(colon + 1)))};
}

}  // namespace

bool mcp_runs_inside(const config::Config& config) {
  return !config.mcp.servers.empty() && config.mcp.placement != config::McpPlacement::host;
}

bool mcp_runs_on_host(const config::Config& config) {
  return !config.mcp.servers.empty() && config.mcp.placement != config::McpPlacement::container;
}

std::vector<std::string> add_mcp_secret_references(config::Config& config) {
  std::vector<std::string> added;
  if (!mcp_runs_inside(config)) return added;  // the container gets no server, so no secret
  for (auto server : config.mcp.servers)
    for (const auto& variable : mcp_server_spec(server).secret_variables)
      if (config.env.emplace(variable, "${" + variable + "}").second) added.push_back(variable);
  return added;
}

std::vector<std::string> mcp_required_hosts(const config::Config& config) {
  std::vector<std::string> hosts;
  if (!mcp_runs_inside(config)) return hosts;
  for (auto server : config.mcp.servers)
    for (const auto& host : mcp_server_spec(server).hosts)
      if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
  return hosts;
}

std::vector<std::string> add_mcp_network_hosts(config::Config& config) {
  std::vector<std::string> added;
  const auto policy = config.network.policy;
  if (policy == config::NetworkPolicy::none || policy == config::NetworkPolicy::full) return added;
  const auto current = net::DomainPolicy::from_config(config.network);
  for (const auto& entry : mcp_required_hosts(config)) {
    auto [host, port] = split_host_port(entry);
    if (current.decide(host, port).allowed) continue;
    if (std::find(config.network.allow.begin(), config.network.allow.end(), entry) != config.network.allow.end())
      continue;
    config.network.allow.push_back(entry);
    added.push_back(entry);
  }
  return added;
}

std::vector<std::string> host_mcp_commands(const config::Config& config, const std::filesystem::path& project_dir) {
  std::vector<std::string> commands;
  if (!mcp_runs_on_host(config)) return commands;
  for (auto server : config.mcp.servers) {
    const auto& spec = mcp_server_spec(server);
    commands.push_back("claude mcp add-json -s local " + spec.entry_name + " " +
                       shell_quote(mcp_entry(spec, project_dir.string()).dump()));
  }
  return commands;
}

std::vector<McpSecretState> mcp_secret_states(const config::Config& config, const config::EnvLookup& lookup) {
  std::vector<McpSecretState> states;
  for (auto server : config.mcp.servers) {
    const auto& spec = mcp_server_spec(server);
    if (spec.secret_variables.empty()) states.push_back({spec.entry_name, "", true});
    for (const auto& variable : spec.secret_variables)
      states.push_back({spec.entry_name, variable, lookup(variable).has_value()});
  }
  return states;
}

}  // namespace cc::integrations
