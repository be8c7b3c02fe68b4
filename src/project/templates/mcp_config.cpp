#include <nlohmann/json.hpp>

#include "integrations/mcp_catalog.hpp"
#include "project/container_layout.hpp"
#include "project/templates/templates.hpp"

namespace cc::project {

// Claude Code's `.mcp.json` format: {"mcpServers": {"<name>": {...}}}. Secrets appear only
// as ${VAR} references, which Claude Code expands when it starts a server.
std::string render_mcp_config(const config::Config& config) {
  nlohmann::ordered_json servers = nlohmann::ordered_json::object();
  for (auto id : config.mcp.servers) {
    const auto& spec = integrations::mcp_server_spec(id);
    servers[spec.entry_name] = integrations::mcp_entry(spec, kWorkspaceDir);
  }
  nlohmann::ordered_json root;
  root["mcpServers"] = servers;
  return root.dump(2) + "\n";
}

}  // namespace cc::project
