#pragma once
// What choosing MCP servers does to a project's settings and to the host: the ${VAR} secret
// references, the network entries the container needs, the host registration commands and
// whether each secret is present. The catalog itself is mcp_catalog.hpp.
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/container_env.hpp"

namespace cc::integrations {

// True when the chosen servers run inside the container (placement container or both).
bool mcp_runs_inside(const config::Config& config);
// True when the host's Claude Code gets the servers (placement host or both).
bool mcp_runs_on_host(const config::Config& config);

// Adds env entries "VAR": "${VAR}" for each secret the chosen servers need inside and env
// lacks, so the host's value reaches the container at start and never the project. Returns
// the names added.
std::vector<std::string> add_mcp_secret_references(config::Config& config);

// The "host:port" destinations the servers running inside need, without duplicates, in
// selection order (npm's registry for npx servers, each server's API host).
std::vector<std::string> mcp_required_hosts(const config::Config& config);

// Adds to network.allow those required hosts the policy does not already let through (none
// under `full`; under `none` nothing either, since that policy means loopback only). Returns
// the entries added.
std::vector<std::string> add_mcp_network_hosts(config::Config& config);

// The `claude mcp add-json NAME 'JSON' -s local` commands, to run in `project_dir` on the host,
// that give the host's Claude Code the chosen servers (empty unless placement is host or both).
std::vector<std::string> host_mcp_commands(const config::Config& config, const std::filesystem::path& project_dir);

struct McpSecretState {
  std::string server;    // entry name
  std::string variable;  // "" when the server needs no secret
  bool found = false;
};

// One row per chosen server and secret: whether the host's environment has it now.
std::vector<McpSecretState> mcp_secret_states(const config::Config& config, const config::EnvLookup& lookup);

}  // namespace cc::integrations
