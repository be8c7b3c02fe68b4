#include <gtest/gtest.h>

#include "integrations/agent_environment.hpp"

namespace cc::integrations {
namespace {

TEST(AgentEnvironment, ConfigDirInTheHomeAndUpdatesOffEverywhere) {
  for (auto policy : {config::NetworkPolicy::none, config::NetworkPolicy::isolated, config::NetworkPolicy::development,
                      config::NetworkPolicy::full}) {
    config::Config cfg;
    cfg.network.policy = policy;
    auto env = agent_environment(cfg);
    EXPECT_EQ(env["CLAUDE_CONFIG_DIR"], "/root/.claude");
    EXPECT_EQ(env["DISABLE_AUTOUPDATER"], "1");
    EXPECT_EQ(env.count("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"), policy == config::NetworkPolicy::full ? 0U : 1U);
    EXPECT_EQ(env.count("IS_SANDBOX"), 0U);
  }
}

TEST(AgentEnvironment, SkipPermissionsAddsTheFlagAndTheSandboxMarker) {
  config::Config cfg;
  cfg.agent.skip_permissions = true;
  EXPECT_EQ(agent_environment(cfg)["IS_SANDBOX"], "1");
  EXPECT_EQ(agent_argv(cfg, {"-p", "say hi"}),
            (std::vector<std::string>{"claude", "--dangerously-skip-permissions", "-p", "say hi"}));
  cfg.agent.skip_permissions = false;
  EXPECT_EQ(agent_argv(cfg, {"-p", "say hi"}), (std::vector<std::string>{"claude", "-p", "say hi"}));
}

TEST(AgentEnvironment, OtherAgentsRunAsWrittenWithoutClaudesFlag) {
  config::Config cfg;
  cfg.agent.command = "  aider   --yes ";
  cfg.agent.skip_permissions = true;
  EXPECT_FALSE(agent_is_claude_code(cfg));
  EXPECT_EQ(agent_argv(cfg, {"x"}), (std::vector<std::string>{"aider", "--yes", "x"}));
  cfg.agent.command = "/opt/bin/claude --verbose";
  EXPECT_TRUE(agent_is_claude_code(cfg));
  cfg.agent.command = " ";
  EXPECT_TRUE(agent_argv(cfg, {"x"}).empty());
}

}  // namespace
}  // namespace cc::integrations
