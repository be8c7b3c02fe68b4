// What the generated files say: the security level and its reasons, the spec's statements
// for each setting, the Containerfile per base, and mcp-config.json without secrets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "project/container_layout.hpp"
#include "integrations/mcp_catalog.hpp"
#include "integrations/mcp_setup.hpp"
#include "project/security_level.hpp"
#include "project/templates/fill.hpp"
#include "project/templates/templates.hpp"
#include "project_test_support.hpp"
#include "util/error.hpp"

namespace cc::project {
namespace {

using namespace config;
using integrations::add_mcp_secret_references;
using integrations::mcp_server_spec;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every planned feature in place: the level and the statements as the design intends them.
constexpr FeatureStatus kAllBuilt{true, true, true, true, true, true, true};
// Nothing beyond the native engine's sandbox, network policy and storage.
constexpr FeatureStatus kNoneBuilt{false, false, false, false, false, false, false};

TEST(ProjectSecurity, PlaygroundHasFiveStarsAndDevelopmentOne) {
  EXPECT_EQ(assess_security(preset(Mode::playground, "p"), kAllBuilt).stars, 5);
  EXPECT_TRUE(assess_security(preset(Mode::playground, "p"), kAllBuilt).losses.empty());
  const SecurityLevel dev = assess_security(preset(Mode::development, "d"), kAllBuilt);
  EXPECT_EQ(dev.stars, 1);
  EXPECT_EQ(dev.losses.size(), 3u);  // full network (2), bind mount, shared key
}

TEST(ProjectSecurity, EachWayOutCostsStars) {
  struct Case {
    std::function<void(Config&)> change;
    int stars;
  };
  const std::vector<Case> cases = {
      {[](Config& c) { c.network.policy = NetworkPolicy::none; }, 5},
      {[](Config& c) { c.network.policy = NetworkPolicy::development; }, 4},
      {[](Config& c) { c.network.policy = NetworkPolicy::full; }, 3},
      {[](Config& c) { c.storage.type = StorageType::hybrid; }, 5},
      {[](Config& c) { c.storage.type = StorageType::bind; }, 4},
      {[](Config& c) { c.credentials.api = ApiCredentials::separate; }, 5},
      {[](Config& c) { c.credentials.api = ApiCredentials::shared; }, 4},
      {[](Config& c) { c.git.credentials = GitCredentials::pat; }, 4},
      {[](Config& c) { c.git.credentials = GitCredentials::ssh; }, 4},
      {[](Config& c) { c.mcp = {McpPlacement::host, {McpServer::filesystem}}; }, 4},
      {[](Config& c) { c.mcp = {McpPlacement::host, {}}; }, 5},  // no server, nothing runs outside
      {[](Config& c) { c.mcp = {McpPlacement::container, {McpServer::github}}; }, 5},
      {[](Config& c) { c.agent.skip_permissions = true; }, 5},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    Config c = preset(Mode::custom, "c");
    cases[i].change(c);
    EXPECT_EQ(assess_security(c, kAllBuilt).stars, cases[i].stars) << "case " << i;
  }
}

TEST(ProjectSecurity, NeverBelowOneStar) {
  Config c = preset(Mode::development, "d");
  c.git.credentials = GitCredentials::ssh;
  c.mcp = {McpPlacement::both, {McpServer::filesystem}};
  const SecurityLevel level = assess_security(c, kAllBuilt);
  EXPECT_EQ(level.stars, 1);
  EXPECT_EQ(level.losses.size(), 5u);
  EXPECT_EQ(star_text(1), "★☆☆☆☆");
  EXPECT_EQ(star_text(5), "★★★★★");
  EXPECT_TRUE(contains(render_container_spec(c, kAllBuilt), "One star is the lowest level"));
}

TEST(ProjectSpec, StatesTheLevelAndItsReasons) {
  const std::string play = render_container_spec(preset(Mode::playground, "p"), kAllBuilt);
  EXPECT_TRUE(contains(play, "## Security level: ★★★★★ (5 of 5)"));
  EXPECT_TRUE(contains(play, "No star is lost"));
  const std::string dev = render_container_spec(preset(Mode::development, "d"), kAllBuilt);
  EXPECT_TRUE(contains(dev, "## Security level: ★☆☆☆☆ (1 of 5)"));
  EXPECT_TRUE(contains(dev, "Two stars lost: The network is open"));
  EXPECT_TRUE(contains(dev, "One star lost: The project is mounted read-write"));
  EXPECT_TRUE(contains(dev, "One star lost: Your API key or token is in the container's environment"));
}

TEST(ProjectSpec, DescribesEachSettingAsConfigured) {
  Config c = preset(Mode::custom, "spec-test");
  c.engine = EngineKind::apple;
  c.image.base = "ubuntu";
  c.storage.type = StorageType::hybrid;
  c.network.allow = {"pypi.org"};
  c.credentials.upstream = "https://gateway.example.com";
  c.mcp.servers = {McpServer::brave};
  c.git = {"Ada", "ada@example.com", GitCredentials::none};
  c.resources.cpus = 1;
  c.env["BRAVE_API_KEY"] = "${BRAVE_API_KEY}";
  const std::string spec = render_container_spec(c, kAllBuilt);
  EXPECT_TRUE(contains(spec, "# Container specification: spec-test"));
  EXPECT_TRUE(contains(spec, "| Engine | `apple`: Apple's `container` CLI"));
  EXPECT_TRUE(contains(spec, "Kernel: the container runs its own Linux kernel"));
  EXPECT_FALSE(contains(spec, "shares the kernel"));
  EXPECT_TRUE(contains(spec, "| Image | Ubuntu 24.04, built from `.claude-container/Containerfile`"));
  EXPECT_TRUE(contains(spec, "`hybrid`: the project, read-only"));
  EXPECT_TRUE(contains(spec, "scripts/container apply"));
  EXPECT_TRUE(contains(spec, "also allowed: `pypi.org`"));
  EXPECT_TRUE(contains(spec, "on the way to `https://gateway.example.com`"));
  EXPECT_TRUE(contains(spec, "Brave Search (`@brave/brave-search-mcp-server@2.1.4` via npx, needs `BRAVE_API_KEY`)"));
  EXPECT_TRUE(contains(spec, "need `registry.npmjs.org:443`, `api.search.brave.com:443`"));
  EXPECT_TRUE(contains(spec, "commits by Ada <ada@example.com>"));
  EXPECT_TRUE(contains(spec, "| Limits | 1 CPU, 4g of memory, 4096 processes |"));
}

TEST(ProjectSpec, SaysWhatThisVersionDoesNotDoYet) {
  Config c = preset(Mode::custom, "unbuilt");
  c.engine = EngineKind::docker;
  c.git = {"Ada", "", GitCredentials::pat};
  const std::string spec = render_container_spec(c, kNoneBuilt);
  EXPECT_TRUE(contains(spec, "(not built in this version yet: `start` stops and says so; choose `native` to run now)"));
  EXPECT_TRUE(contains(spec, "is not built in this version yet, so no key is passed in"));
  EXPECT_FALSE(contains(spec, "holds only a placeholder"));
  EXPECT_FALSE(contains(spec, "cannot read or leak it"));
  EXPECT_TRUE(contains(spec, "API key: yours is not passed into the container."));
  EXPECT_TRUE(contains(spec, "identity Ada recorded (this version does not set it inside yet)"));
  EXPECT_TRUE(contains(spec, "`pat` chosen, which this version does not provide inside yet"));
  EXPECT_TRUE(contains(spec, "Git: no git credentials are inside."));
  EXPECT_TRUE(contains(spec, "copy your `~/.claude/skills` in with `scripts/sync-skills.sh`"));
  // A credential that is not provided costs no star; it is a note instead.
  const SecurityLevel level = assess_security(c, kNoneBuilt);
  EXPECT_EQ(level.stars, 5);
  EXPECT_EQ(assess_security(c, kAllBuilt).stars, 4);

  Config shared = preset(Mode::custom, "shared");
  shared.credentials.api = ApiCredentials::shared;
  EXPECT_TRUE(contains(render_container_spec(shared, kNoneBuilt), "passing your key in is not built in this version yet"));
  EXPECT_EQ(assess_security(shared, kNoneBuilt).stars, 5);
  shared.env["ANTHROPIC_API_KEY"] = "${ANTHROPIC_API_KEY}";
  EXPECT_TRUE(contains(render_container_spec(shared, kNoneBuilt), "your key reaches the container through `env`"));
  EXPECT_EQ(assess_security(shared, kNoneBuilt).stars, 4);
}

TEST(ProjectSpec, DockerAndPodmanAreBuilt) {
  Config c = preset(Mode::playground, "engines");
  for (auto engine : {EngineKind::docker, EngineKind::podman}) {
    c.engine = engine;
    const std::string spec = render_container_spec(c, kFeatures);
    EXPECT_TRUE(contains(spec, "CLI, with an image built from the Containerfile; no network of its own")) << spec;
    EXPECT_FALSE(contains(spec, "not built in this version yet: `start` stops")) << spec;
  }
}

TEST(ProjectSpec, NamesTheSecretsMcpServersStillNeed) {
  Config c = preset(Mode::custom, "mcp");
  c.mcp.servers = {McpServer::github, McpServer::filesystem};
  EXPECT_TRUE(contains(render_container_spec(c), "## Before you start"));
  EXPECT_TRUE(contains(render_container_spec(c), "add `\"GITHUB_PERSONAL_ACCESS_TOKEN\": \"${GITHUB_PERSONAL_ACCESS_TOKEN}\"`"));
  EXPECT_EQ(add_mcp_secret_references(c), std::vector<std::string>{"GITHUB_PERSONAL_ACCESS_TOKEN"});
  EXPECT_EQ(c.env.at("GITHUB_PERSONAL_ACCESS_TOKEN"), "${GITHUB_PERSONAL_ACCESS_TOKEN}");
  EXPECT_TRUE(add_mcp_secret_references(c).empty());
  EXPECT_FALSE(contains(render_container_spec(c), "## Before you start"));
}

TEST(ProjectSpec, StatementsFollowTheNetworkPolicy) {
  Config c = preset(Mode::custom, "n");
  c.network.policy = NetworkPolicy::none;
  // With the gateway, it is the one way out, and the spec says so.
  c.credentials.api = ApiCredentials::gateway;
  EXPECT_TRUE(contains(render_container_spec(c), "Network: the container reaches no host at all; its only way out is "
                                                 "the credential gateway, which forwards API requests to "
                                                 "`https://api.anthropic.com` and nowhere else."));
  c.credentials.api = ApiCredentials::separate;
  EXPECT_TRUE(contains(render_container_spec(c), "Network: the container reaches no host at all."));
  EXPECT_TRUE(contains(render_container_spec(c), "it cannot reach the sign-in hosts, so `/login` inside fails"));
  c.credentials.api = ApiCredentials::gateway;
  c.network.policy = NetworkPolicy::full;
  const std::string full = render_container_spec(c);
  EXPECT_TRUE(contains(full, "| Network | `full`: every host, through a network namespace of its own"));
  EXPECT_TRUE(contains(full, "`start` refuses rather than share this machine's network"));
  c.network.host_network = true;
  EXPECT_TRUE(contains(render_container_spec(c), "Host network: `network.host_network` is true"));
  c.network.host_network = false;
  EXPECT_FALSE(contains(full, "Network: only the hosts"));
  EXPECT_FALSE(contains(full, "allow example.com"));
}

TEST(ProjectSpec, OwnContainerfileIsNamedAsTheUsers) {
  Config c = preset(Mode::custom, "own");
  c.image = {"debian", "docker/Dockerfile"};
  EXPECT_TRUE(contains(render_container_spec(c), "built from `docker/Dockerfile` (your own file)"));
}

TEST(ProjectContainerfile, EachBaseUsesItsImageAndNoSudo) {
  const std::map<std::string, std::string> from = {{"host", "FROM debian:13-slim"},
                                                   {"debian", "FROM debian:13-slim"},
                                                   {"ubuntu", "FROM ubuntu:24.04"},
                                                   {"alpine", "FROM alpine:3.22"}};
  for (const auto& [base, line] : from) {
    Config c = preset(Mode::custom, "b");
    c.image.base = base;
    const std::string file = render_containerfile(c);
    EXPECT_TRUE(contains(file, "\n" + line + "\n")) << base;
    EXPECT_FALSE(std::regex_search(file, std::regex("(apt-get install|apk add)[^\n]* sudo( |$)"))) << base;
    EXPECT_TRUE(contains(file, "There is no sudo in it.")) << base;
    EXPECT_FALSE(contains(file, "NOPASSWD")) << base;
    EXPECT_EQ(contains(file, "native engine does not build this file"), base == "host") << base;
    // Claude Code is installed by the non-root user, after USER.
    const auto user = file.find("\nUSER claude\n");
    const auto install = file.find("npm install -g @anthropic-ai/claude-code@" + std::string(kClaudeCodeVersion));
    ASSERT_NE(user, std::string::npos) << base;
    ASSERT_NE(install, std::string::npos) << base;
    EXPECT_LT(user, install) << base;
    EXPECT_TRUE(contains(file, "chown claude:claude /workspace")) << base;
    EXPECT_TRUE(contains(file, "WORKDIR /workspace")) << base;
    EXPECT_TRUE(contains(file, "< 22)")) << base;  // the build fails on a Node.js older than Claude Code needs
  }
}

TEST(ProjectContainerfile, InstallsTheNpmMcpServersWhereTheyRun) {
  Config c = preset(Mode::custom, "m");
  c.mcp.servers = {McpServer::filesystem, McpServer::github, McpServer::postgres};
  std::string file = render_containerfile(c);
  EXPECT_TRUE(contains(file, " @modelcontextprotocol/server-filesystem@2026.8.31 @bytebase/dbhub@1.4.0 \\\n"));
  EXPECT_TRUE(contains(file, "GitHub MCP server is remote"));
  c.mcp.placement = McpPlacement::host;
  file = render_containerfile(c);
  EXPECT_FALSE(contains(file, "server-filesystem"));
  EXPECT_TRUE(contains(file, "none are installed here"));
}

TEST(ProjectMcpConfig, IsClaudeCodesFormatWithSecretsAsReferences) {
  Config c = preset(Mode::custom, "m");
  c.mcp.servers = {McpServer::filesystem, McpServer::brave, McpServer::github, McpServer::postgres};
  const std::string text = render_mcp_config(c);
  const auto json = nlohmann::json::parse(text);
  const auto& servers = json.at("mcpServers");
  ASSERT_EQ(servers.size(), 4u);
  EXPECT_EQ(servers.at("filesystem").at("command"), "npx");
  EXPECT_EQ(servers.at("filesystem").at("args"),
            nlohmann::json::array({"-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/workspace"}));
  EXPECT_EQ(servers.at("brave-search").at("env").at("BRAVE_API_KEY"), "${BRAVE_API_KEY}");
  EXPECT_EQ(servers.at("github").at("type"), "http");
  EXPECT_EQ(servers.at("github").at("headers").at("Authorization"), "Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}");
  EXPECT_EQ(servers.at("postgres").at("args"),
            nlohmann::json::array({"-y", "@bytebase/dbhub@1.4.0", "--dsn", "${POSTGRES_URL}"}));
  for (const auto& [name, entry] : servers.items()) {
    const std::string type = entry.at("type");
    EXPECT_TRUE(type == "stdio" ? entry.contains("command") && !entry.contains("url") : entry.contains("url")) << name;
  }
  // Every secret the catalog names appears only as a reference.
  for (auto id : c.mcp.servers)
    for (const auto& variable : mcp_server_spec(id).secret_variables) {
      EXPECT_TRUE(contains(text, "${" + variable + "}")) << variable;
      EXPECT_FALSE(std::regex_search(text, std::regex("\"" + variable + "\": \"[^$]"))) << variable;
    }
  EXPECT_EQ(render_mcp_config(preset(Mode::playground, "p")), "{\n  \"mcpServers\": {}\n}\n");
}

TEST(ProjectTemplates, FillRefusesMissingAndUnusedValues) {
  EXPECT_EQ(fill_template("a {{X}} b {{X}}", {{"X", "1"}}), "a 1 b 1");
  EXPECT_THROW(fill_template("a {{X}}", {}), Error);
  EXPECT_THROW(fill_template("a", {{"X", "1"}}), Error);
  EXPECT_THROW(fill_template("a {{X", {{"X", "1"}}), Error);
}

}  // namespace
}  // namespace cc::project
