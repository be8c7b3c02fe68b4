// init and menu: setting a project up, interactively or from flags, and the seed's menu.
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "cli/command_actions.hpp"
#include "cli/prompt_terminal.hpp"
#include "cli/setup_config.hpp"
#include "cli/setup_wizard.hpp"
#include "config/approval.hpp"
#include "config/config_changes.hpp"
#include "config/config_io.hpp"
#include "integrations/mcp_setup.hpp"
#include "project/project_files.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

const char* kInitFlagsHint =
    "--mode playground|development|custom (plus --network, --storage, --credentials, --skills/--no-skills, "
    "--mcp, --mcp-placement, --git-name, --git-email, --git-credentials, --env, --env-file, --engine, --image, "
    "--cpus, --memory, --name as needed), or --yes to accept the defaults";

void print_summary(const Console& console, const engine::ProjectContext& ctx, const project::WriteReport& report,
                   bool reconfigured) {
  const auto& config = ctx.config;
  if (console.json()) {
    console.print_json({{"project", ctx.project_dir.string()},
                        {"reconfigured", reconfigured},
                        {"config", nlohmann::json::parse(config::serialize_config(config))},
                        {"written", report.written},
                        {"unchanged", report.unchanged},
                        {"kept_modified", report.kept_modified},
                        {"removed", report.removed},
                        {"gitignore_block_added", report.gitignore_block_added}});
    return;
  }
  console.say(console.green(reconfigured ? "Container isolation environment reconfigured."
                                         : "Container isolation environment configured."));
  console.say("  Mode:     " + config::to_string(config.mode));
  console.say("  Name:     " + config.name);
  console.say("  Network:  " + config::to_string(config.network.policy));
  console.say("  Storage:  " + config::to_string(config.storage.type));
  console.say("  Engine:   " + config::to_string(config.engine));
  console.say("  API key:  " + config::to_string(config.credentials.api));
  console.say("  Project:  " + ctx.project_dir.string());
  if (!report.written.empty()) {
    console.say("Files written:");
    for (const auto& path : report.written) console.say("  " + path);
  }
  if (!report.unchanged.empty()) {
    console.say("Files already up to date:");
    for (const auto& path : report.unchanged) console.say("  " + path);
  }
  if (!report.removed.empty()) {
    console.say("Files no longer needed, removed:");
    for (const auto& path : report.removed) console.say("  " + path);
  }
  if (!report.kept_modified.empty()) {
    console.say(console.yellow("Kept because you changed them (run init --force to overwrite):"));
    for (const auto& path : report.kept_modified) console.say("  " + path);
  }
  if (report.gitignore_block_added) console.say("Added the claude-container block to .gitignore.");
  console.say("Next steps:");
  switch (config.credentials.api) {
    case config::ApiCredentials::gateway:
    case config::ApiCredentials::shared:
      console.say("  claude-container login     # store your API key or `claude setup-token` token, unless "
                  "ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN is set");
      break;
    case config::ApiCredentials::separate:
      break;
  }
  console.say("  scripts/container start    # create and start the container");
  console.say("  scripts/container shell    # open a shell inside");
  console.say(config.credentials.api == config::ApiCredentials::separate
                  ? "  claude-container claude    # run Claude Code inside (the first time: /login there)"
                  : "  claude-container claude    # run Claude Code inside");
}

bool current_config_approved(const std::filesystem::path& project_dir) {
  try {
    return config::is_approved(project_dir, config::read_config(project_dir).text);
  } catch (const Error&) {
    return false;
  }
}

config::Config config_from_flags(const SetupStart& start, const InitFlags& flags) {
  config::Mode mode = flags.mode ? parse_mode_answer(*flags.mode)
                                 : (start.current ? start.current->mode : config::Mode::playground);
  config::Config config = starting_config(start, mode);
  if (mode == config::Mode::custom) default_git_identity_from_host(config, start);
  apply_flags(config, flags);
  return config;
}

// What choosing MCP servers changed and what is left to do: the hosts added to the allowlist,
// how the servers get registered inside, and the exact commands for the host's Claude Code.
void print_mcp_setup(const Console& console, const config::Config& config, const std::filesystem::path& project_dir,
                     const std::vector<std::string>& added_hosts) {
  if (!added_hosts.empty()) {
    std::string list;
    for (const auto& host : added_hosts) list += (list.empty() ? "" : ", ") + host;
    console.say("Allowed " + list + " in network.allow: the chosen MCP servers need them.");
  }
  if (integrations::mcp_runs_inside(config) && config.network.policy == config::NetworkPolicy::none)
    console.say("The network policy is none, so the MCP servers inside cannot reach anything they need.");
  if (integrations::mcp_runs_inside(config))
    console.say("`start` registers the MCP servers inside (scripts/setup-mcp.sh, again whenever they change).");
  const auto commands = integrations::host_mcp_commands(config, project_dir);
  if (!commands.empty()) {
    console.say("Give Claude Code on this machine the MCP servers with scripts/setup-mcp.sh, or run in " +
                project_dir.string() + ":");
    for (const auto& command : commands) console.say("  " + command);
  }
}

int init_command(const GlobalOptions& options, const InitFlags& flags) {
  Console console(options);
  SetupStart start = load_setup_start(project_dir_for_init(options), flags.force);
  bool interactive = !flags.mode && !flags.yes;
  config::Config config;
  if (interactive) {
    if (!PromptTerminal::available()) {
      throw usage_error("init needs answers and there is no terminal to ask them on. Pass " +
                        std::string(kInitFlagsHint) + ".");
    }
    try {
      PromptTerminal terminal;
      config = run_setup_wizard(terminal, start, flags);
    } catch (const PromptCancelled&) {
      throw Error("init cancelled: nothing was written. Run `claude-container init` again to set up.");
    }
  } else {
    config = config_from_flags(start, flags);
  }
  // Secrets the chosen MCP servers need travel as ${VAR} references from the host at start.
  auto secret_references = integrations::add_mcp_secret_references(config);
  auto mcp_hosts = integrations::add_mcp_network_hosts(config);
  validate_config(config);

  project::WriteOptions write_options;
  write_options.force = flags.force;
  // init approves what it writes. Settings it keeps from a config.json this user never
  // approved (a cloned repository's) are named, so the approval is not a silent one.
  if (start.current && !current_config_approved(start.project_dir)) {
    std::string kept;
    for (const auto& line : config::describe_config_changes(std::nullopt, config, start.project_dir))
      kept += (kept.empty() ? "" : "; ") + line;
    console.note("note: " + (start.project_dir / config::kConfigFile).string() +
                 " was not approved by you; init approves these settings: " + kept + ".");
  }
  auto report = project::write_project_files(start.project_dir, config, write_options);
  config::record_approval(start.project_dir, config::serialize_config(config));
  print_summary(console, engine::ProjectContext{start.project_dir, config}, report, start.current.has_value());
  for (const auto& name : secret_references) {
    console.say("Set " + name + " in your environment before `start`: the MCP servers read it as ${" + name + "}.");
  }
  print_mcp_setup(console, config, start.project_dir, mcp_hosts);
  return 0;
}

enum class MenuAction { set_up, status, shell, stop, restart, destroy };

MenuAction choose_menu_action() {
  PromptTerminal terminal;
  const std::vector<Choice> main_choices = {
      {"Set up new environment", "Create and configure an isolated container (Playground, Development or Custom)"},
      {"Check status", "The container's state, settings and limits"},
      {"Open shell", "An interactive shell inside (starts the container if stopped)"},
      {"Manage container", "Stop, restart, or permanently destroy the container"},
  };
  const std::vector<Choice> manage_choices = {
      {"Stop container", "Stop it; the container and its data stay"},
      {"Restart container", "Stop it, then start it again"},
      {"Destroy environment", "Delete the container and ALL its data (asks you to confirm)"},
      {"Go back", "Return to the main menu"},
  };
  for (;;) {
    switch (terminal.select("What would you like to do with container isolation?", main_choices, 0)) {
      case 0:
        return MenuAction::set_up;
      case 1:
        return MenuAction::status;
      case 2:
        return MenuAction::shell;
      default:
        switch (terminal.select("Manage the container:", manage_choices, 0)) {
          case 0:
            return MenuAction::stop;
          case 1:
            return MenuAction::restart;
          case 2:
            return MenuAction::destroy;
          default:
            break;  // Go back
        }
    }
  }
}

int menu_command(const GlobalOptions& options) {
  if (!PromptTerminal::available()) {
    throw usage_error("menu needs a terminal on stdin and stdout. Use the commands directly instead: init, status, "
                      "shell, stop, restart, destroy.");
  }
  MenuAction action;
  try {
    action = choose_menu_action();  // the terminal is back to normal before anything runs
  } catch (const PromptCancelled&) {
    return static_cast<int>(ExitCode::failure);
  }
  switch (action) {
    case MenuAction::set_up:
      return init_command(options, InitFlags{});
    case MenuAction::status:
      return status_command(options);
    case MenuAction::shell:
      return shell_command(options);
    case MenuAction::stop:
      return stop_command(options, 10);
    case MenuAction::restart:
      return restart_command(options, 10);
    case MenuAction::destroy:
      return destroy_command(options, false, false);
  }
  return static_cast<int>(ExitCode::failure);
}

// CLI11 fills plain values; these remember which were given so unset flags stay unset.
struct InitValues {
  std::string mode, network, storage, credentials, mcp, mcp_placement, git_credentials, git_name, git_email, git_host;
  std::string env_file, engine, image, cpus, memory, name;
  bool skills_on = false;
  bool skills_off = false;
  std::vector<std::string> env;
  bool yes = false, force = false;
  std::vector<std::pair<CLI::Option*, std::string*>> text_options;
};

template <typename Enum>
std::vector<std::string> spellings(std::initializer_list<Enum> values) {
  std::vector<std::string> out;
  for (Enum value : values) out.push_back(config::to_string(value));
  return out;
}

InitFlags collect_init_flags(const InitValues& values) {
  InitFlags flags;
  auto given = [&values](const std::string* field) -> std::optional<std::string> {
    for (const auto& [option, target] : values.text_options) {
      if (target == field && option->count() > 0) return *field;
    }
    return std::nullopt;
  };
  flags.mode = given(&values.mode);
  flags.network = given(&values.network);
  flags.storage = given(&values.storage);
  flags.credentials = given(&values.credentials);
  flags.mcp = given(&values.mcp);
  flags.mcp_placement = given(&values.mcp_placement);
  flags.git_credentials = given(&values.git_credentials);
  flags.git_name = given(&values.git_name);
  flags.git_email = given(&values.git_email);
  flags.git_host = given(&values.git_host);
  flags.env_file = given(&values.env_file);
  flags.engine = given(&values.engine);
  flags.image = given(&values.image);
  flags.cpus = given(&values.cpus);
  flags.memory = given(&values.memory);
  flags.name = given(&values.name);
  if (values.skills_on) flags.skills = true;
  if (values.skills_off) flags.skills = false;
  flags.env = values.env;
  flags.yes = values.yes;
  flags.force = values.force;
  return flags;
}

}  // namespace

void add_setup_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto values = std::make_shared<InitValues>();
  auto* init = app.add_subcommand(
      "init", "set the project up: interactive questions on a terminal, or none with --mode and flags");
  auto text = [&](const std::string& name, std::string& field, const std::string& help, const std::string& type,
                  const std::vector<std::string>& allowed = {}) {
    auto* option = init->add_option(name, field, help)->type_name(type);
    // The allowed values are part of the definition, so help and completion list them.
    if (!allowed.empty()) option->check(CLI::IsMember(allowed));
    values->text_options.emplace_back(option, &field);
  };
  using namespace config;
  text("--mode", values->mode, "playground (maximum security), development (convenient, trusted code only) or custom",
       "MODE", spellings({Mode::playground, Mode::development, Mode::custom}));
  text("--network", values->network, "network policy (custom mode)", "POLICY",
       spellings({NetworkPolicy::none, NetworkPolicy::isolated, NetworkPolicy::development, NetworkPolicy::full}));
  text("--storage", values->storage, "workspace storage (custom mode)", "TYPE",
       spellings({StorageType::volume, StorageType::bind, StorageType::hybrid}));
  text("--credentials", values->credentials, "API credentials (custom mode)", "API",
       spellings({ApiCredentials::gateway, ApiCredentials::separate, ApiCredentials::shared}));
  auto* skills = init->add_flag("--skills", values->skills_on, "sync the host's Claude skills into the container");
  auto* no_skills = init->add_flag("--no-skills", values->skills_off, "do not sync the host's Claude skills");
  skills->excludes(no_skills);
  no_skills->excludes(skills);
  text("--mcp", values->mcp, "MCP servers, comma-separated: filesystem,brave,github,postgres (or none)", "LIST");
  text("--mcp-placement", values->mcp_placement, "where MCP servers run", "WHERE",
       spellings({McpPlacement::container, McpPlacement::host, McpPlacement::both}));
  text("--git-credentials", values->git_credentials, "git credentials inside", "KIND",
       spellings({GitCredentials::none, GitCredentials::pat, GitCredentials::ssh}));
  text("--git-name", values->git_name, "git user.name inside (custom default: the host's)", "NAME");
  text("--git-email", values->git_email, "git user.email inside (custom default: the host's)", "EMAIL");
  text("--git-host", values->git_host, "the one host git credentials serve (default github.com)", "HOST[:PORT]");
  init->add_option("--env", values->env, "an environment variable NAME=value (repeatable; secrets as NAME=${VAR})")
      ->type_name("KEY=VALUE");
  text("--env-file", values->env_file, "a .env file in the project, read at start", "FILE");
  text("--engine", values->engine, "container engine", "ENGINE",
       spellings({EngineKind::automatic, EngineKind::native, EngineKind::apple, EngineKind::docker, EngineKind::podman}));
  text("--image", values->image, "base image", "BASE", {"host", "debian", "ubuntu", "alpine"});
  text("--cpus", values->cpus, "CPU limit, e.g. 2 or 0.5", "N");
  text("--memory", values->memory, "memory limit, e.g. 4g, 512m, 4GiB or bytes", "SIZE");
  text("--name", values->name, "container name (default: <project>-<mode>)", "NAME");
  init->add_flag("--yes", values->yes, "ask nothing: take the defaults (or the current settings) for what no flag gives");
  init->add_flag("--force", values->force, "overwrite project files a person changed since init wrote them");
  table[init] = [&options, values] { return init_command(options, collect_init_flags(*values)); };

  auto* menu = app.add_subcommand("menu", "interactive menu: set up, status, shell, stop / restart / destroy");
  table[menu] = [&options] { return menu_command(options); };
}

}  // namespace cc::cli
