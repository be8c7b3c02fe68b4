#include "cli/status_report.hpp"

#include <ctime>

#include "config/container_env.hpp"
#include "integrations/agent_environment.hpp"
#include "integrations/agent_install.hpp"
#include "integrations/git_setup.hpp"
#include "integrations/mcp_setup.hpp"
#include "integrations/skills.hpp"

namespace cc::cli {

namespace {

std::string kind_words(const std::string& kind) {
  return kind == "oauth_token" ? "an OAuth token" : kind == "api_key" ? "an API key" : "";
}

// Where the key lives, in the words the README, the wizard and CONTAINER-SPEC use.
std::string credentials_description(const config::Config& config, const engine::Status& status) {
  switch (config.credentials.api) {
    case config::ApiCredentials::gateway:
      if (!status.gateway_kind.empty()) {
        return kind_words(status.gateway_kind) + " from " + status.gateway_origin +
               ", added outside the container by the credential gateway on the way to " + config.credentials.upstream +
               "; inside there is only a placeholder";
      }
      return "the credential gateway adds your key or token outside the container (found at start: "
             "ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN or `claude-container login`); inside there is only a "
             "placeholder";
    case config::ApiCredentials::shared:
      return "your key or token (ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN or `claude-container login`) is passed "
             "into the container's environment, where any process there can read it";
    case config::ApiCredentials::separate:
      break;
  }
  return "the container keeps its own Claude login in its home (run `claude-container claude`, then /login); nothing "
         "of yours is inside";
}

nlohmann::json credentials_json(const config::Config& config, const engine::Status& status) {
  const bool gateway = config.credentials.api == config::ApiCredentials::gateway;
  auto text_or_null = [](const std::string& text) { return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text); };
  return {{"mode", config::to_string(config.credentials.api)},
          {"key_inside", config.credentials.api == config::ApiCredentials::shared},
          {"upstream", gateway ? nlohmann::json(config.credentials.upstream) : nlohmann::json(nullptr)},
          {"kind", text_or_null(status.gateway_kind)},
          {"source", text_or_null(status.gateway_origin)},
          {"description", credentials_description(config, status)}};
}

// Git's identity and credential mode; whether the token or agent is there now, never a value.
nlohmann::json git_json(const config::Config& config) {
  auto git = integrations::git_status(config, config::host_environment());
  return {{"identity", git.identity.empty() ? nlohmann::json(nullptr) : nlohmann::json(git.identity)},
          {"credentials", git.mode},
          {"host", git.host},
          {"secret_found", config.git.credentials == config::GitCredentials::none ? nlohmann::json(nullptr)
                                                                                  : nlohmann::json(git.secret_found)},
          {"source", git.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(git.source)},
          {"description", integrations::describe_git_credentials(config, config::host_environment())}};
}

std::optional<long long> uptime_seconds(const engine::Status& status) {
  if (status.state != engine::ContainerState::running || !status.started_at) return std::nullopt;
  long long now = static_cast<long long>(std::time(nullptr));
  return now > *status.started_at ? now - *status.started_at : 0;
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// Which agent `claude-container claude` runs, and for Claude Code where it comes from.
std::optional<integrations::AgentInstall> claude_code_on_host() {
  return integrations::find_claude_code(config::host_environment());
}

std::string agent_description(const config::Config& config, const std::optional<integrations::AgentInstall>& install) {
  std::string text = config.agent.command;
  if (!integrations::agent_is_claude_code(config)) return text + " (looked up on the container's PATH)";
  text += install ? ": " + integrations::describe(*install) : ": " + integrations::claude_code_install_hint();
  if (config.agent.skip_permissions) text += "; started with --dangerously-skip-permissions";
  return text;
}

nlohmann::json agent_json(const config::Config& config, const std::optional<integrations::AgentInstall>& install) {
  nlohmann::json found = nullptr;
  if (install) {
    found = {{"path", install->executable.string()}, {"version", install->version}, {"found_via", install->found_via}};
  }
  return {{"command", config.agent.command},
          {"skip_permissions", config.agent.skip_permissions},
          {"claude_code", found},
          {"description", agent_description(config, install)}};
}

// skills.sync: what of the host's Claude Code directory is shared (read-only, at start).
struct SkillsShare {
  bool sync = false;
  std::string source;
  std::vector<std::string> shared, skills, skipped;
};

SkillsShare skills_share(const config::Config& config) {
  SkillsShare share;
  share.sync = config.skills.sync;
  if (auto dir = integrations::host_claude_dir(config::host_environment())) {
    share.source = dir->string();
    auto items = integrations::shared_skill_items(*dir, &share.skipped);
    for (const auto& item : items) share.shared.push_back(item.name);
    share.skills = integrations::skill_names(items);
  }
  return share;
}

nlohmann::json skills_json(const SkillsShare& share) {
  return {{"sync", share.sync}, {"source", share.source}, {"shared", share.shared}, {"skills", share.skills},
          {"skipped", share.skipped}};
}

std::string skills_description(const SkillsShare& share) {
  std::string names;
  for (const auto& name : share.shared) names += (names.empty() ? "" : ", ") + name;
  if (!share.skills.empty()) {
    names += " (" + std::to_string(share.skills.size()) + " skill" + (share.skills.size() == 1 ? "" : "s") + ")";
  }
  if (share.shared.empty()) {
    return std::string(share.sync ? "on; " : "off; ") + "nothing to share: " +
           (share.source.empty() ? "HOME is not set" : share.source + " has no skills, commands, agents or CLAUDE.md");
  }
  if (!share.sync) return "off (sync-skills shares " + names + " from " + share.source + " with a running container)";
  return names + " from " + share.source + ", read-only in /root/.claude at every start";
}

}  // namespace

std::string format_duration(long long seconds) {
  long long hours = seconds / 3600, minutes = (seconds % 3600) / 60, rest = seconds % 60;
  std::string text;
  if (hours > 0) text += std::to_string(hours) + "h ";
  if (hours > 0 || minutes > 0) text += std::to_string(minutes) + "m ";
  return text + std::to_string(rest) + "s";
}

// The chosen MCP servers, where they run and whether each secret is in this environment now
// (a missing one stops `start` with the variable's name).
nlohmann::json mcp_json(const config::Config& config) {
  nlohmann::json servers = nlohmann::json::array();
  for (const auto& state : integrations::mcp_secret_states(config, config::host_environment()))
    servers.push_back({{"name", state.server},
                       {"secret", state.variable.empty() ? nlohmann::json(nullptr) : nlohmann::json(state.variable)},
                       {"secret_found", state.variable.empty() ? nlohmann::json(nullptr) : nlohmann::json(state.found)}});
  return {{"placement", config::to_string(config.mcp.placement)}, {"servers", servers}};
}

nlohmann::json status_json(const engine::ProjectContext& ctx, const engine::Status& status) {
  const auto& config = ctx.config;
  bool running = status.state == engine::ContainerState::running;
  nlohmann::json mounts = nlohmann::json::array();
  for (const auto& mount : status.mounts) {
    mounts.push_back({{"destination", mount.destination}, {"source", mount.source}, {"read_only", mount.read_only}});
  }
  nlohmann::json limits = nlohmann::json::array();
  for (const auto& limit : status.limits) {
    limits.push_back(
        {{"name", limit.name}, {"value", limit.value}, {"enforced", limit.enforced}, {"reason", limit.reason}});
  }
  return {
      {"name", config.name},
      {"project", ctx.project_dir.string()},
      {"state", engine::to_string(status.state)},
      {"engine", status.engine.empty() ? config::to_string(config.engine) : status.engine},
      {"mode", config::to_string(config.mode)},
      {"network",
       {{"policy", config::to_string(config.network.policy)},
        {"allow", config.network.allow},
        {"deny", config.network.deny},
        {"realised_by", status.network_mode.empty() ? nlohmann::json(nullptr) : nlohmann::json(status.network_mode)},
        {"denials", status.network_denials}}},
      {"storage", {{"type", config::to_string(config.storage.type)}}},
      {"credentials", credentials_json(config, status)},
      {"git", git_json(config)},
      {"mcp", mcp_json(config)},
      {"resources",
       {{"cpus", config.resources.cpus}, {"memory", config.resources.memory_text}, {"pids", config.resources.pids}}},
      {"agent", agent_json(config, claude_code_on_host())},
      {"skills", skills_json(skills_share(config))},
      {"pid", running ? or_null(status.pid) : nlohmann::json(nullptr)},
      {"supervisor_pid", running ? or_null(status.supervisor_pid) : nlohmann::json(nullptr)},
      {"started_at", running ? or_null(status.started_at) : nlohmann::json(nullptr)},
      {"uptime_seconds", or_null(uptime_seconds(status))},
      {"mounts", mounts},
      {"limits", limits},
      {"denials", status.network_denials},
      {"notes", status.notes},
  };
}

nlohmann::json not_set_up_status_json() {
  return {{"name", nullptr},
          {"state", "not-set-up"},
          {"engine", nullptr},
          {"mode", nullptr},
          {"network", {{"policy", nullptr}}},
          {"storage", {{"type", nullptr}}},
          {"credentials", {{"mode", nullptr}}},
          {"pid", nullptr},
          {"supervisor_pid", nullptr},
          {"started_at", nullptr},
          {"uptime_seconds", nullptr},
          {"mounts", nlohmann::json::array()},
          {"limits", nlohmann::json::array()},
          {"denials", 0}};
}

std::vector<std::string> status_text(const engine::ProjectContext& ctx, const engine::Status& status,
                                     const Console& console) {
  const auto& config = ctx.config;
  std::vector<std::string> lines;
  auto row = [&lines](const std::string& label, const std::string& value) {
    std::string padded = label + ":";
    padded.resize(11, ' ');
    lines.push_back(padded + value);
  };
  row("name", config.name);
  std::string state;
  switch (status.state) {
    case engine::ContainerState::not_created:
      state = console.yellow("not created") + " (run `claude-container start` to create it)";
      break;
    case engine::ContainerState::stopped:
      state = console.yellow("stopped");
      break;
    case engine::ContainerState::running: {
      state = console.green("running");
      std::string detail;
      if (status.pid) detail += "pid " + std::to_string(*status.pid);
      if (status.supervisor_pid) detail += (detail.empty() ? "" : ", ") + std::string("supervisor ") +
                                           std::to_string(*status.supervisor_pid);
      if (auto up = uptime_seconds(status)) detail += (detail.empty() ? "" : ", ") + std::string("up ") + format_duration(*up);
      if (!detail.empty()) state += " (" + detail + ")";
      break;
    }
  }
  row("state", state);
  row("project", ctx.project_dir.string());
  row("mode", config::to_string(config.mode));
  row("engine", status.engine.empty() ? config::to_string(config.engine) : status.engine);
  std::string network = config::to_string(config.network.policy);
  if (!status.network_mode.empty()) network += " via " + status.network_mode;
  if (!config.network.allow.empty()) network += "; +" + std::to_string(config.network.allow.size()) + " allowed";
  if (!config.network.deny.empty()) network += "; " + std::to_string(config.network.deny.size()) + " denied";
  if (status.state == engine::ContainerState::running) {
    network += "; " + std::to_string(status.network_denials) + " connection(s) refused since start";
  }
  row("network", network);
  row("storage", config::to_string(config.storage.type));
  row("api key", config::to_string(config.credentials.api) + ": " + credentials_description(config, status));
  const auto git = integrations::git_status(config, config::host_environment());
  row("git", (git.identity.empty() ? std::string("no identity set") : git.identity) + "; credentials " +
                 integrations::describe_git_credentials(config, config::host_environment()));
  for (const auto& state : integrations::mcp_secret_states(config, config::host_environment())) {
    std::string text = state.server + " (" + config::to_string(config.mcp.placement) + ")";
    if (!state.variable.empty())
      text += ": " + state.variable + " " +
              (state.found ? console.green("found")
               : config.mcp.placement == config::McpPlacement::host
                   ? console.yellow("not set") + " (the server cannot start until it is)"
                   : console.yellow("not set") + " (`start` stops until it is)");
    row("mcp", text);
  }
  char cpus[32];
  std::snprintf(cpus, sizeof cpus, "%g", config.resources.cpus);
  row("resources", std::string(cpus) + " CPUs, " + config.resources.memory_text + " memory, " +
                       std::to_string(config.resources.pids) + " pids");
  row("agent", agent_description(config, claude_code_on_host()));
  row("skills", skills_description(skills_share(config)));
  for (const auto& limit : status.limits) {
    std::string text = limit.name + (limit.value.empty() ? "" : " " + limit.value) + ": " +
                       (limit.enforced ? console.green("enforced") : console.yellow("not enforced"));
    if (!limit.reason.empty()) text += " (" + limit.reason + ")";
    row("limit", text);
  }
  for (const auto& mount : status.mounts) {
    row("mount", mount.destination + " <- " + mount.source + (mount.read_only ? " (read-only)" : ""));
  }
  for (const auto& note : status.notes) row("note", note);
  return lines;
}

}  // namespace cc::cli
