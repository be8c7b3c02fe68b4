#pragma once
// What each selectable MCP server is, how it is installed and started, which secrets it needs
// (always passed as ${VAR} references) and which hosts it must reach. Facts from
// /work/shared/reference/claude-code.md sections 10-11, checked against the npm registry.
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::project {

struct McpServerSpec {
  config::McpServer id;
  std::string entry_name;     // key under "mcpServers"
  std::string title;          // for people
  std::string transport;      // "stdio" | "http"
  // stdio servers: installed from npm, started by their bin name
  std::string npm_package;    // "" for remote servers
  std::string npm_version;
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;      // values are ${VAR} references
  // http servers
  std::string url;
  std::map<std::string, std::string> headers;  // values contain ${VAR} references
  std::vector<std::string> secret_variables;   // host variables the entry refers to
  std::vector<std::string> hosts;              // network destinations it needs
  std::string note;                            // caveat worth telling the user, or ""
};

const McpServerSpec& mcp_server_spec(config::McpServer server);

// Adds env entries "VAR": "${VAR}" for each secret the chosen servers need and env lacks, so
// the host's value reaches the container at start and never the project. Returns the names added.
std::vector<std::string> add_mcp_secret_references(config::Config& config);

// The hosts the chosen servers need, without duplicates, in selection order.
std::vector<std::string> mcp_required_hosts(const config::Config& config);

}  // namespace cc::project
