#include "integrations/agent_environment.hpp"

#include <filesystem>
#include <sstream>

namespace cc::integrations {

namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream stream(text);
  std::vector<std::string> words;
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

}  // namespace

std::map<std::string, std::string> agent_environment(const config::Config& config) {
  std::map<std::string, std::string> env;
  env["CLAUDE_CONFIG_DIR"] = kAgentConfigDir;
  // The agent is the host's installation, mounted read-only: updating it belongs on the host,
  // and an update attempt inside could only fail or put a second copy in the container's home.
  env["DISABLE_AUTOUPDATER"] = "1";
  // Telemetry, error reports, release notes and feature flags go to hosts that none, isolated
  // and development do not allow; each attempt would only be a refusal in the audit log (and
  // with none, a wait for a timeout). Under `full` the user's own choice stands.
  if (config.network.policy != config::NetworkPolicy::full) env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
  // Inside, the user is uid 0; Claude Code refuses bypass mode as root unless told it runs in
  // a sandbox, which it does.
  if (config.agent.skip_permissions) env["IS_SANDBOX"] = "1";
  return env;
}

bool agent_is_claude_code(const config::Config& config) {
  auto words = split_words(config.agent.command);
  return !words.empty() && std::filesystem::path(words.front()).filename() == "claude";
}

std::vector<std::string> agent_argv(const config::Config& config, const std::vector<std::string>& args) {
  auto argv = split_words(config.agent.command);
  if (argv.empty()) return argv;
  if (config.agent.skip_permissions && agent_is_claude_code(config)) argv.push_back("--dangerously-skip-permissions");
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace cc::integrations
