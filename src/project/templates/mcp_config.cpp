#include <nlohmann/json.hpp>

#include "project/mcp_servers.hpp"
#include "project/templates/templates.hpp"

namespace cc::project {

// Claude Code's `.mcp.json` format: {"mcpServers": {"<name>": {...}}}. Secrets appear only
// as ${VAR} references, which Claude Code expands when it starts a server.
std::string render_mcp_config(const config::Config& config) {
  using nlohmann::ordered_json;
  ordered_json servers = ordered_json::object();
  for (auto id : config.mcp.servers) {
    const auto& spec = mcp_server_spec(id);
    ordered_json entry;
    entry["type"] = spec.transport;
    if (spec.transport == "http") {
      entry["url"] = spec.url;
      if (!spec.headers.empty()) entry["headers"] = spec.headers;
    } else {
      entry["command"] = spec.command;
      entry["args"] = spec.args;
      if (!spec.env.empty()) entry["env"] = spec.env;
    }
    servers[spec.entry_name] = entry;
  }
  ordered_json root;
  root["mcpServers"] = servers;
  return root.dump(2) + "\n";
}

}  // namespace cc::project
