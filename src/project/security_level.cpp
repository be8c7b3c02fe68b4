#include "project/security_level.hpp"

#include <algorithm>

namespace cc::project {

using config::ApiCredentials;
using config::GitCredentials;
using config::McpPlacement;
using config::NetworkPolicy;
using config::StorageType;

// The scale: five stars is the Playground (no open network, the project a copy, the key
// behind a gateway). Each way for code in the container to reach or change something of
// yours outside it costs stars; the more direct, the more stars.
SecurityLevel assess_security(const config::Config& c, const FeatureStatus& features) {
  SecurityLevel level;
  auto lose = [&](int stars, std::string reason) { level.losses.push_back({stars, std::move(reason)}); };

  switch (c.network.policy) {
    case NetworkPolicy::none:
    case NetworkPolicy::isolated: break;
    case NetworkPolicy::development:
      lose(1, "Package registries and git hosts are reachable, so code in the container can send what it "
              "reads to any account on them.");
      break;
    case NetworkPolicy::full:
      lose(2, "The network is open: code in the container can reach any host and send it anything it can read.");
      break;
  }
  if (c.storage.type == StorageType::bind)
    lose(1, "The project is mounted read-write: the container changes your files (including .git and its hooks) "
            "directly, with no review step.");
  // By key or by reference: "HARMLESS": "${ANTHROPIC_API_KEY}" passes the key in too.
  const bool key_in_env = config::env_passes_api_key(c);
  if (c.credentials.api == ApiCredentials::shared && (features.api_key_passing || key_in_env))
    lose(1, "Your API key or token is in the container's environment, where the agent and any code it runs can read it "
            "and send it wherever the network lets it.");
  const bool git_secret = c.git.credentials != GitCredentials::none;
  if (git_secret && features.git_credentials && c.git.credentials == GitCredentials::pat)
    lose(1, "A git token is available inside the container: code there can push to every repository the token "
            "reaches.");
  if (git_secret && features.git_credentials && c.git.credentials == GitCredentials::ssh)
    lose(1, "Your ssh-agent is reachable from the container: code there can sign in with every key the agent "
            "holds while the container runs.");
  std::string other_secrets;
  for (const auto& name : config::env_secret_references(c))
    if (!config::is_api_credential_variable(name)) other_secrets += (other_secrets.empty() ? "" : ", ") + name;
  if (!other_secrets.empty())
    lose(1, "env passes the host's " + other_secrets + " into the container, where code can read and use it.");
  if (!c.mcp.servers.empty() && c.mcp.placement != McpPlacement::container)
    lose(1, "MCP servers run on the host, outside the sandbox, on behalf of the agent inside it.");

  int lost = 0;
  for (const auto& loss : level.losses) lost += loss.stars;
  level.stars = std::clamp(5 - lost, 1, 5);

  if (c.agent.skip_permissions)
    level.notes.push_back("Claude Code runs with --dangerously-skip-permissions: it does not ask before acting, so "
                          "the container is the only boundary.");
  if (c.credentials.api == ApiCredentials::gateway && !features.credential_gateway)
    level.notes.push_back("The credential gateway is not built in this version: no key is passed in, and a login "
                          "made inside the container stays there, where code in the container can read it.");
  if (c.credentials.api == ApiCredentials::shared && !features.api_key_passing && !key_in_env)
    level.notes.push_back("credentials.api is \"shared\", but this version does not pass your key in yet; pass it "
                          "through env (\"ANTHROPIC_API_KEY\": \"${ANTHROPIC_API_KEY}\") or log in inside.");
  if (git_secret && !features.git_credentials)
    level.notes.push_back("git.credentials is \"" + config::to_string(c.git.credentials) +
                          "\", which this version does not provide inside yet: no git credential is in the "
                          "container.");
  if (c.credentials.api == ApiCredentials::separate)
    level.notes.push_back("The container keeps its own Claude login in its home; code in the container can read "
                          "that login, though not yours.");
  if (!c.env.empty() || !c.env_file.empty())
    level.notes.push_back("Variables from env and env_file are visible to everything in the container.");
  return level;
}

std::string star_text(int stars) {
  std::string out;
  for (int i = 1; i <= 5; ++i) out += i <= stars ? "★" : "☆";
  return out;
}

}  // namespace cc::project
