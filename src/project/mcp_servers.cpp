#include "project/mcp_servers.hpp"

#include <algorithm>
#include <array>

#include "project/container_layout.hpp"
#include "util/error.hpp"

namespace cc::project {
namespace {

std::array<McpServerSpec, 4> make_catalog() {
  McpServerSpec filesystem;
  filesystem.id = config::McpServer::filesystem;
  filesystem.entry_name = "filesystem";
  filesystem.title = "Filesystem";
  filesystem.transport = "stdio";
  filesystem.npm_package = "@modelcontextprotocol/server-filesystem";
  filesystem.npm_version = "2026.8.31";
  filesystem.command = "mcp-server-filesystem";
  filesystem.args = {kWorkspaceDir};  // the only directory it may touch

  McpServerSpec brave;
  brave.id = config::McpServer::brave;
  brave.entry_name = "brave-search";
  brave.title = "Brave Search";
  brave.transport = "stdio";
  // The old @modelcontextprotocol/server-brave-search is archived; Brave maintains this one.
  brave.npm_package = "@brave/brave-search-mcp-server";
  brave.npm_version = "2.1.4";
  brave.command = "brave-search-mcp-server";
  brave.args = {"--transport", "stdio"};  // v1 defaulted to http
  brave.env = {{"BRAVE_API_KEY", "${BRAVE_API_KEY}"}};
  brave.secret_variables = {"BRAVE_API_KEY"};
  brave.hosts = {"api.search.brave.com"};

  McpServerSpec github;
  github.id = config::McpServer::github;
  github.entry_name = "github";
  github.title = "GitHub";
  // GitHub's server is not on npm (the npm one is archived and deprecated); its hosted
  // endpoint needs nothing installed.
  github.transport = "http";
  github.url = "https://api.githubcopilot.com/mcp/";
  github.headers = {{"Authorization", "Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"}};
  github.secret_variables = {"GITHUB_PERSONAL_ACCESS_TOKEN"};
  github.hosts = {"api.githubcopilot.com"};

  McpServerSpec postgres;
  postgres.id = config::McpServer::postgres;
  postgres.entry_name = "postgres";
  postgres.title = "PostgreSQL";
  postgres.transport = "stdio";
  // @modelcontextprotocol/server-postgres is archived; Claude Code's docs now use DBHub.
  postgres.npm_package = "@bytebase/dbhub";
  postgres.npm_version = "1.4.0";
  postgres.command = "dbhub";
  postgres.args = {"--dsn", "${POSTGRES_URL}"};
  postgres.secret_variables = {"POSTGRES_URL"};
  postgres.note =
      "connect with a role that may only SELECT, and allow the database host with "
      "`claude-container allow HOST:PORT`";

  return {filesystem, brave, github, postgres};
}

}  // namespace

const McpServerSpec& mcp_server_spec(config::McpServer server) {
  static const auto catalog = make_catalog();
  for (const auto& spec : catalog)
    if (spec.id == server) return spec;
  throw Error("internal error: MCP server without a catalog entry");
}

std::vector<std::string> add_mcp_secret_references(config::Config& config) {
  std::vector<std::string> added;
  for (auto server : config.mcp.servers)
    for (const auto& variable : mcp_server_spec(server).secret_variables)
      if (config.env.emplace(variable, "${" + variable + "}").second) added.push_back(variable);
  return added;
}

std::vector<std::string> mcp_required_hosts(const config::Config& config) {
  std::vector<std::string> hosts;
  for (auto server : config.mcp.servers)
    for (const auto& host : mcp_server_spec(server).hosts)
      if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
  return hosts;
}

}  // namespace cc::project
