#pragma once
// What each selectable MCP server is, how Claude Code starts it, which secrets it needs
// (always passed as ${VAR} references) and which hosts it must reach. Facts from
// /work/shared/reference/claude-code.md sections 10-11; npm versions checked against the registry.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace cc::integrations {

struct McpServerSpec {
  config::McpServer id;
  std::string entry_name;     // key under "mcpServers"
  std::string title;          // for people
  std::string transport;      // "stdio" | "http"
  // stdio servers: an npm package started through `npx -y package@version`
  std::string npm_package;    // "" for remote servers
  std::string npm_version;
  std::string bin;            // the package's command, for images that install it ahead
  std::vector<std::string> args;               // after the package; kWorkspaceDir means the project
  std::map<std::string, std::string> env;      // values are ${VAR} references
  // http servers
  std::string url;
  std::map<std::string, std::string> headers;  // values contain ${VAR} references
  std::vector<std::string> secret_variables;   // host variables the entry refers to
  std::vector<std::string> hosts;              // "host:port" destinations it needs
  std::string note;                            // caveat worth telling the user, or ""
};

const McpServerSpec& mcp_server_spec(config::McpServer server);

// The server's entry in Claude Code's own format ({"type": ..., "command"/"url": ...}) with
// secrets as ${VAR} references; `workspace` replaces the project directory in the arguments.
nlohmann::ordered_json mcp_entry(const McpServerSpec& spec, const std::string& workspace);

}  // namespace cc::integrations
