// The MCP catalog and what choosing servers does: the entries Claude Code gets for each server
// and placement, the hosts added to the allowlist, the host commands and the secret states.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "integrations/mcp_catalog.hpp"
#include "integrations/mcp_setup.hpp"

namespace cc::integrations {
namespace {

using config::Config;
using config::McpPlacement;
using config::McpServer;
using config::Mode;
using config::NetworkPolicy;

Config with_servers(std::vector<McpServer> servers, McpPlacement placement = McpPlacement::container) {
  Config c = config::preset(Mode::custom, "mcp");
  c.mcp = {placement, std::move(servers)};
  return c;
}

TEST(McpCatalog, EntriesFollowTheReference) {
  const auto fs_entry = mcp_entry(mcp_server_spec(McpServer::filesystem), "/workspace");
  EXPECT_EQ(fs_entry.dump(),
            R"({"type":"stdio","command":"npx","args":["-y","@modelcontextprotocol/server-filesystem@2026.8.31","/workspace"]})");
  // The project directory is the only one it may touch, wherever that is.
  EXPECT_EQ(mcp_entry(mcp_server_spec(McpServer::filesystem), "/home/ada/p").at("args").back(), "/home/ada/p");

  const auto brave = mcp_entry(mcp_server_spec(McpServer::brave), "/workspace");
  EXPECT_EQ(brave.at("args"), nlohmann::json::array({"-y", "@brave/brave-search-mcp-server@2.1.4", "--transport", "stdio"}));
  EXPECT_EQ(brave.at("env"), nlohmann::json({{"BRAVE_API_KEY", "${BRAVE_API_KEY}"}}));

  const auto github = mcp_entry(mcp_server_spec(McpServer::github), "/workspace");
  EXPECT_EQ(github.dump(),
            R"({"type":"http","url":"https://api.githubcopilot.com/mcp/","headers":{"Authorization":"Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"}})");
  EXPECT_NE(mcp_server_spec(McpServer::github).note.find("github-mcp-server stdio"), std::string::npos);

  const auto postgres = mcp_entry(mcp_server_spec(McpServer::postgres), "/workspace");
  EXPECT_EQ(postgres.at("args"), nlohmann::json::array({"-y", "@bytebase/dbhub@1.4.0", "--dsn", "${POSTGRES_URL}"}));
  EXPECT_NE(mcp_server_spec(McpServer::postgres).note.find("only SELECT"), std::string::npos);
  // None of the archived @modelcontextprotocol packages is used.
  for (auto id : {McpServer::filesystem, McpServer::brave, McpServer::github, McpServer::postgres}) {
    const auto& package = mcp_server_spec(id).npm_package;
    EXPECT_TRUE(package.empty() || package == "@modelcontextprotocol/server-filesystem" ||
                package.rfind("@modelcontextprotocol/", 0) != 0)
        << package;
  }
}

TEST(McpSetup, SecretReferencesOnlyWhenTheServersRunInside) {
  Config c = with_servers({McpServer::github, McpServer::filesystem, McpServer::brave});
  EXPECT_EQ(add_mcp_secret_references(c), (std::vector<std::string>{"GITHUB_PERSONAL_ACCESS_TOKEN", "BRAVE_API_KEY"}));
  EXPECT_EQ(c.env.at("BRAVE_API_KEY"), "${BRAVE_API_KEY}");
  EXPECT_TRUE(add_mcp_secret_references(c).empty());  // once only

  Config host = with_servers({McpServer::github}, McpPlacement::host);
  EXPECT_TRUE(add_mcp_secret_references(host).empty());
  EXPECT_TRUE(host.env.empty());

  Config both = with_servers({McpServer::postgres}, McpPlacement::both);
  EXPECT_EQ(add_mcp_secret_references(both), std::vector<std::string>{"POSTGRES_URL"});
}

TEST(McpSetup, RequiredHostsFollowTheSelectionAndPlacement) {
  Config c = with_servers({McpServer::github, McpServer::brave, McpServer::filesystem});
  EXPECT_EQ(mcp_required_hosts(c), (std::vector<std::string>{"api.githubcopilot.com:443", "registry.npmjs.org:443",
                                                             "api.search.brave.com:443"}));
  EXPECT_EQ(mcp_required_hosts(with_servers({McpServer::github})),
            std::vector<std::string>{"api.githubcopilot.com:443"});
  EXPECT_TRUE(mcp_required_hosts(with_servers({McpServer::brave}, McpPlacement::host)).empty());
  EXPECT_TRUE(mcp_required_hosts(with_servers({})).empty());
}

TEST(McpSetup, AllowlistGainsOnlyWhatThePolicyLacks) {
  Config isolated = with_servers({McpServer::brave, McpServer::github});
  isolated.network.policy = NetworkPolicy::isolated;
  isolated.network.allow = {"api.githubcopilot.com:443"};
  EXPECT_EQ(add_mcp_network_hosts(isolated),
            (std::vector<std::string>{"registry.npmjs.org:443", "api.search.brave.com:443"}));
  EXPECT_EQ(isolated.network.allow, (std::vector<std::string>{"api.githubcopilot.com:443", "registry.npmjs.org:443",
                                                              "api.search.brave.com:443"}));
  EXPECT_TRUE(add_mcp_network_hosts(isolated).empty());  // idempotent

  // development already allows npm's registry.
  Config development = with_servers({McpServer::brave});
  development.network.policy = NetworkPolicy::development;
  EXPECT_EQ(add_mcp_network_hosts(development), std::vector<std::string>{"api.search.brave.com:443"});

  for (auto policy : {NetworkPolicy::full, NetworkPolicy::none}) {
    Config c = with_servers({McpServer::brave});
    c.network.policy = policy;
    EXPECT_TRUE(add_mcp_network_hosts(c).empty());
    EXPECT_TRUE(c.network.allow.empty());
  }
  Config host = with_servers({McpServer::brave}, McpPlacement::host);
  host.network.policy = NetworkPolicy::isolated;
  EXPECT_TRUE(add_mcp_network_hosts(host).empty());  // the container runs none of them
}

TEST(McpSetup, HostCommandsOnlyForHostAndBoth) {
  EXPECT_TRUE(host_mcp_commands(with_servers({McpServer::filesystem}), "/p").empty());
  const auto commands = host_mcp_commands(with_servers({McpServer::filesystem, McpServer::github}, McpPlacement::host),
                                          "/home/ada/it's");
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0],
            R"(claude mcp add-json -s local filesystem '{"type":"stdio","command":"npx","args":["-y","@modelcontextprotocol/server-filesystem@2026.8.31","/home/ada/it'\''s"]}')");
  EXPECT_EQ(commands[1],
            R"(claude mcp add-json -s local github '{"type":"http","url":"https://api.githubcopilot.com/mcp/","headers":{"Authorization":"Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"}}')");
  EXPECT_EQ(host_mcp_commands(with_servers({McpServer::brave}, McpPlacement::both), "/p").size(), 1u);
}

TEST(McpSetup, SecretStatesSayWhichAreFound) {
  const auto states = mcp_secret_states(with_servers({McpServer::filesystem, McpServer::brave, McpServer::postgres}),
                                        [](const std::string& name) -> std::optional<std::string> {
                                          if (name == "BRAVE_API_KEY") return "k";
                                          return std::nullopt;
                                        });
  ASSERT_EQ(states.size(), 3u);
  EXPECT_EQ(states[0].server, "filesystem");
  EXPECT_EQ(states[0].variable, "");
  EXPECT_EQ(states[1].variable, "BRAVE_API_KEY");
  EXPECT_TRUE(states[1].found);
  EXPECT_EQ(states[2].variable, "POSTGRES_URL");
  EXPECT_FALSE(states[2].found);
}

}  // namespace
}  // namespace cc::integrations
