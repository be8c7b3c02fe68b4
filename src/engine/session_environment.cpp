#include "engine/session_environment.hpp"

#include <cstdlib>

#include "config/container_env.hpp"
#include "integrations/agent_environment.hpp"
#include "integrations/credential_environment.hpp"
#include "integrations/git_setup.hpp"
#include "net/proxy_env.hpp"
#include "net/proxy_listener.hpp"

extern char** environ;

namespace cc::engine {

std::map<std::string, std::string> session_environment(const ProjectContext& ctx, const ExecRequest& req, bool tty,
                                                       std::optional<net::CredentialKind> gateway_kind) {
  const auto& cfg = ctx.config;
  std::map<std::string, std::string> env;
  env["HOSTNAME"] = cfg.name;
  env["CLAUDE_CONTAINER"] = cfg.name;
  if (const char* term = std::getenv("TERM"); term != nullptr && *term != '\0') env["TERM"] = term;
  else if (tty) env["TERM"] = "xterm-256color";
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string key = entry.substr(0, eq);
    if (key == "LANG" || key == "LANGUAGE" || key.rfind("LC_", 0) == 0 || key == "COLORTERM" || key == "TZ") {
      env[key] = entry.substr(eq + 1);
    }
  }
  // The gateway's address and placeholder, the real credential for "shared", or nothing. The
  // config cannot set these itself (config_io refuses them unless "shared").
  for (auto& [k, v] : integrations::credential_environment(cfg, gateway_kind, config::host_environment())) env[k] = std::move(v);
  if (cfg.network.policy == config::NetworkPolicy::isolated || cfg.network.policy == config::NetworkPolicy::development) {
    for (const auto& [k, v] : net::proxy_environment(net::kProxyPort)) env[k] = v;
  }
  for (auto& [k, v] : integrations::agent_environment(cfg)) env[k] = std::move(v);
  // git's system config (identity, credential helper) and, for "ssh", the agent socket.
  for (auto& [k, v] : integrations::git_environment(cfg)) env[k] = std::move(v);
  // env_file and env, through the config's one reader and expander (no links followed, a
  // missing ${VAR} is an error).
  for (auto& [k, v] : config::container_env(cfg, ctx.project_dir, config::host_environment())) env[k] = std::move(v);
  for (const auto& [k, v] : req.extra_env) env[k] = v;
  return env;
}

}  // namespace cc::engine
