#pragma once
// What the agent needs in its environment and on its command line inside the container, for
// every process (so `claude` started from `shell` behaves like `claude-container claude`).
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::integrations {

// The agent's configuration directory inside: in the container's persistent home, so a
// `separate` login and the onboarding state survive restarts. .claude.json lives inside it.
inline constexpr const char* kAgentConfigDir = "/root/.claude";

// CLAUDE_CONFIG_DIR; the update and non-essential-traffic switches; IS_SANDBOX=1 with
// agent.skip_permissions. The config's own `env` is applied after these and may override them.
std::map<std::string, std::string> agent_environment(const config::Config& config);

// agent.command split into words, `--dangerously-skip-permissions` when agent.skip_permissions
// and the agent is Claude Code (another agent would not know the flag), then `args`. Empty
// when agent.command is blank.
std::vector<std::string> agent_argv(const config::Config& config, const std::vector<std::string>& args);

// True when agent.command runs Claude Code (its first word is `claude`, bare or as a path).
bool agent_is_claude_code(const config::Config& config);

}  // namespace cc::integrations
