#include "integrations/mcp_catalog.hpp"

#include <array>

#include "project/container_layout.hpp"
#include "util/error.hpp"

namespace cc::integrations {
namespace {

std::array<McpServerSpec, 4> make_catalog() {
  McpServerSpec filesystem;
  filesystem.id = config::McpServer::filesystem;
  filesystem.entry_name = "filesystem";
  filesystem.title = "Filesystem";
  filesystem.transport = "stdio";
  filesystem.npm_package = "@modelcontextprotocol/server-filesystem";  // maintained reference server
  filesystem.npm_version = "2026.8.31";
  filesystem.bin = "mcp-server-filesystem";
  filesystem.args = {project::kWorkspaceDir};  // the only directory it may touch
  filesystem.hosts = {"registry.npmjs.org:443"};  // npx fetches the package at first start

  McpServerSpec brave;
  brave.id = config::McpServer::brave;
  brave.entry_name = "brave-search";
  brave.title = "Brave Search";
  brave.transport = "stdio";
  // The old @modelcontextprotocol/server-brave-search is archived; Brave maintains this one.
  brave.npm_package = "@brave/brave-search-mcp-server";
  brave.npm_version = "2.1.4";
  brave.bin = "brave-search-mcp-server";
  brave.args = {"--transport", "stdio"};  // v1 defaulted to http
  brave.env = {{"BRAVE_API_KEY", "${BRAVE_API_KEY}"}};
  brave.secret_variables = {"BRAVE_API_KEY"};
  brave.hosts = {"registry.npmjs.org:443", "api.search.brave.com:443"};

  McpServerSpec github;
  github.id = config::McpServer::github;
  github.entry_name = "github";
  github.title = "GitHub";
  // GitHub's server is not on npm (the npm one is archived and deprecated); its hosted
  // endpoint needs nothing installed and takes the PAT as a bearer token.
  github.transport = "http";
  github.url = "https://api.githubcopilot.com/mcp/";
  github.headers = {{"Authorization", "Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"}};
  github.secret_variables = {"GITHUB_PERSONAL_ACCESS_TOKEN"};
  github.hosts = {"api.githubcopilot.com:443"};
  github.note =
      "the hosted endpoint is used; to run GitHub's own server locally instead, take the "
      "`github-mcp-server` binary from github.com/github/github-mcp-server releases (or the image "
      "ghcr.io/github/github-mcp-server) and register `github-mcp-server stdio` with "
      "GITHUB_PERSONAL_ACCESS_TOKEN in its env";

  McpServerSpec postgres;
  postgres.id = config::McpServer::postgres;
  postgres.entry_name = "postgres";
  postgres.title = "PostgreSQL";
  postgres.transport = "stdio";
  // @modelcontextprotocol/server-postgres is archived (its read-only guard had a COMMIT bypass);
  // Claude Code's docs now use DBHub.
  postgres.npm_package = "@bytebase/dbhub";
  postgres.npm_version = "1.4.0";
  postgres.bin = "dbhub";
  postgres.args = {"--dsn", "${POSTGRES_URL}"};
  postgres.secret_variables = {"POSTGRES_URL"};
  postgres.hosts = {"registry.npmjs.org:443"};
  postgres.note =
      "POSTGRES_URL (a postgres:// connection URL) stays in your environment; connect with a role "
      "that may only SELECT, and allow the database host with `claude-container allow HOST:PORT`";

  return {filesystem, brave, github, postgres};
}

}  // namespace

const McpServerSpec& mcp_server_spec(config::McpServer server) {
  static const auto catalog = make_catalog();
  for (const auto& spec : catalog)
    if (spec.id == server) return spec;
  throw Error("internal error: MCP server without a catalog entry");
}

nlohmann::ordered_json mcp_entry(const McpServerSpec& spec, const std::string& workspace) {
  nlohmann::ordered_json entry;
  entry["type"] = spec.transport;
  if (spec.transport == "http") {
    entry["url"] = spec.url;
    if (!spec.headers.empty()) entry["headers"] = spec.headers;
    return entry;
  }
  entry["command"] = "npx";
  std::vector<std::string> args = {"-y", spec.npm_package + "@" + spec.npm_version};
  for (const auto& arg : spec.args) args.push_back(arg == project::kWorkspaceDir ? workspace : arg);
  entry["args"] = args;
  if (!spec.env.empty()) entry["env"] = spec.env;
  return entry;
}

}  // namespace cc::integrations
