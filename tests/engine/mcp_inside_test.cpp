// The chosen MCP servers inside a running container: start (and scripts/setup-mcp.sh) registers them in
// Claude Code's own configuration and a real `claude mcp list` inside sees them, a stand-in
// stdio server registered the same way answers its health check, the secrets arrive from the
// host's environment and are in no project file, and a missing one stops `start` by name.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "config/config_io.hpp"
#include "project/templates/templates.hpp"
#include "support/engine_env.hpp"
#include "util/file_io.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// A minimal MCP server over stdio: JSON-RPC initialize and tools/list, one tool.
constexpr const char* kStandIn = R"PY(import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    if msg.get("method") == "initialize":
        result = {"protocolVersion": msg["params"].get("protocolVersion", "2025-06-18"),
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "stand-in", "version": "1"}}
    elif msg.get("method") == "tools/list":
        result = {"tools": [{"name": "echo", "description": "echo", "inputSchema": {"type": "object"}}]}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "unknown"}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
)PY";

const char* kSecretValues[][2] = {{"BRAVE_API_KEY", "brave-secret-4711"},
                                  {"GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_secret4711"},
                                  {"POSTGRES_URL", "postgres://reader:pw4711@db.invalid/app"}};

class McpInsideTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    claude_ = find_system_tool("claude");
    CC_SKIP_UNLESS_FEATURE(claude_.has_value(), "claude-code") << "Claude Code (`claude`) is not installed";
    python_ = find_system_tool("python3");
    CC_SKIP_UNLESS_FEATURE(python_.has_value(), "python3") << "python3 is not installed";
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    // npm stays offline so the npx servers fail their health check at once instead of
    // retrying a network the `none` policy does not have.
    env_->write_config("volume", "none",
                       R"("mcp": {"placement": "container", "servers": ["filesystem", "brave", "github", "postgres"]},
                          "env": {"BRAVE_API_KEY": "${BRAVE_API_KEY}",
                                  "GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}",
                                  "POSTGRES_URL": "${POSTGRES_URL}", "npm_config_offline": "true"},
                          "resources": {"cpus": 1, "memory": "1g", "pids": 1024})");
    const auto config = config::load_config(env_->project());
    env_->write_project_file("scripts/setup-mcp.sh", project::render_setup_mcp_script(config));
    env_->write_project_file(".claude-container/mcp-config.json", project::render_mcp_config(config));
    env_->write_project_file("stand_in_mcp.py", kStandIn);
    for (const auto& secret : kSecretValues) env_->set_env(secret[0], secret[1]);
  }
  std::optional<fs::path> claude_, python_;
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(McpInsideTest, ClaudeMcpListInsideSeesTheChosenServers) {
  auto started = env_->cli({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);

  // start registered them already (setup-mcp.sh --if-changed, its output in a log).
  auto log = env_->exec({"/bin/sh", "-c", "cat \"${CLAUDE_CONFIG_DIR:-$HOME}/.claude-container-mcp.log\""});
  ASSERT_EQ(log.exit_code, 0) << describe(log);
  for (const char* name : {"filesystem", "brave-search", "github", "postgres"})
    EXPECT_NE(log.out.find(std::string("Registered MCP server ") + name + " (user scope)"), std::string::npos)
        << log.out;
  EXPECT_EQ(started.err.find("MCP"), std::string::npos) << started.err;

  // The project's script does the same by hand.
  auto setup = env_->exec({"/bin/sh", "/workspace/scripts/setup-mcp.sh"});
  ASSERT_EQ(setup.exit_code, 0) << describe(setup);
  for (const char* name : {"filesystem", "brave-search", "github", "postgres"})
    EXPECT_NE(setup.out.find(std::string("Registered MCP server ") + name + " (user scope)"), std::string::npos)
        << setup.out;
  EXPECT_EQ(setup.err.find("warning"), std::string::npos) << setup.err;  // every secret arrived
  // Running it again replaces the entries instead of failing on "already exists".
  auto again = env_->exec({"/bin/sh", "/workspace/scripts/setup-mcp.sh"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);

  // The stand-in, registered the way setup-mcp.sh registers.
  auto add = env_->exec({"claude", "mcp", "add-json", "-s", "user", "stand-in",
                         R"({"type":"stdio","command":")" + python_->string() + R"(","args":["/workspace/stand_in_mcp.py"]})"});
  ASSERT_EQ(add.exit_code, 0) << describe(add);

  auto list = env_->exec({"claude", "mcp", "list"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  EXPECT_NE(list.out.find("filesystem: npx -y @modelcontextprotocol/server-filesystem@2026.8.31 /workspace"),
            std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("brave-search: npx -y @brave/brave-search-mcp-server@2.1.4 --transport stdio"),
            std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("github: https://api.githubcopilot.com/mcp/ (HTTP)"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("postgres: npx -y @bytebase/dbhub@1.4.0 --dsn"), std::string::npos) << list.out;
  const auto stand_in = list.out.find("stand-in: ");
  ASSERT_NE(stand_in, std::string::npos) << list.out;
  const auto line_end = list.out.find('\n', stand_in);
  EXPECT_NE(list.out.substr(stand_in, line_end - stand_in).find("Connected"), std::string::npos) << list.out;
  // Claude Code keeps the references, not the values; the values are in the environment.
  EXPECT_EQ(list.out.find("Missing environment variables"), std::string::npos) << list.out;

  auto stored = env_->exec({"/bin/sh", "-c", "cat \"${CLAUDE_CONFIG_DIR:-$HOME}/.claude.json\""});
  ASSERT_EQ(stored.exit_code, 0) << describe(stored);
  EXPECT_NE(stored.out.find("Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"), std::string::npos) << stored.out;
  for (const auto& secret : kSecretValues) {
    EXPECT_EQ(stored.out.find(secret[1]), std::string::npos) << secret[0];
    auto value = env_->exec({"printenv", secret[0]});
    EXPECT_EQ(value.out, std::string(secret[1]) + "\n") << secret[0];
  }
  // Nothing of the values reached the project's files.
  for (const auto& entry : fs::recursive_directory_iterator(env_->project())) {
    if (!entry.is_regular_file()) continue;
    const auto text = read_file_if_exists(entry.path()).value_or("");
    for (const auto& secret : kSecretValues) EXPECT_EQ(text.find(secret[1]), std::string::npos) << entry.path();
  }
}

TEST_P(McpInsideTest, AMissingSecretStopsStartByName) {
  auto options = env_->options();
  options.env.erase("POSTGRES_URL");  // the host lacks it this time
  auto started = run_cli({"--project", env_->project().string(), "start"}, options);
  EXPECT_NE(started.exit_code, 0) << describe(started);
  EXPECT_NE(started.err.find("POSTGRES_URL"), std::string::npos) << describe(started);
  auto status = run_cli({"--project", env_->project().string(), "--json", "status"}, options);
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  const auto servers = nlohmann::json::parse(status.out).at("mcp").at("servers");
  ASSERT_EQ(servers.size(), 4u) << status.out;
  EXPECT_EQ(servers[1], nlohmann::json({{"name", "brave-search"}, {"secret", "BRAVE_API_KEY"}, {"secret_found", true}}));
  EXPECT_EQ(servers[3], nlohmann::json({{"name", "postgres"}, {"secret", "POSTGRES_URL"}, {"secret_found", false}}));
  auto text = run_cli({"--project", env_->project().string(), "status"}, options);
  EXPECT_NE(text.out.find("postgres (container): POSTGRES_URL not set (`start` stops until it is)"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("brave-search (container): BRAVE_API_KEY found"), std::string::npos) << text.out;
}

INSTANTIATE_TEST_SUITE_P(Users, McpInsideTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
