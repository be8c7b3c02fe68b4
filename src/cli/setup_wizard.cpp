#include "cli/setup_wizard.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "util/error.hpp"

namespace cc::cli {

namespace {

using config::Config;

template <typename Enum>
std::size_t index_of(const std::vector<Enum>& values, Enum value) {
  auto it = std::find(values.begin(), values.end(), value);
  return it == values.end() ? 0 : static_cast<std::size_t>(it - values.begin());
}

// Turns a validating parser into the wizard's "error sentence or nothing" check.
template <typename Parse>
TextValidator validator(Parse parse) {
  return [parse](const std::string& text) -> std::optional<std::string> {
    try {
      parse(text);
      return std::nullopt;
    } catch (const Error& error) {
      std::string message = error.what();
      const std::string prefix = "init failed: ";
      if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
      return message;
    }
  };
}

config::Mode ask_mode(PromptTerminal& terminal, const SetupStart& start) {
  const std::vector<config::Mode> modes = {config::Mode::playground, config::Mode::development, config::Mode::custom};
  const std::vector<Choice> choices = {
      {"Playground (recommended)",
       "Maximum security: isolated storage, API-only network, the API key stays on the host. For untrusted code."},
      {"Development", "Convenient: your project folder itself, full internet, your credentials. Only for code you trust."},
      {"Custom", "Choose every setting yourself."},
  };
  std::size_t initial = start.current ? index_of(modes, start.current->mode) : 0;
  for (;;) {
    config::Mode mode = modes[terminal.select("Choose container isolation mode:", choices, initial)];
    if (mode != config::Mode::development) return mode;
    terminal.print(terminal.colour() ? "\x1b[33;1m! DEVELOPMENT MODE WARNING\x1b[0m" : "! DEVELOPMENT MODE WARNING");
    terminal.print("  - The container reads and writes your project folder on the host directly.");
    terminal.print("  - Your API key or token is put into its environment, where any process inside can read it.");
    terminal.print("  - It has full internet access; nothing is filtered or audited.");
    terminal.print("  Code running inside can change or send anything in the project. Use it only for code you trust.");
    if (terminal.confirm("Continue with Development mode?", false)) return mode;
    initial = 0;  // back to the choice, Playground highlighted
  }
}

bool ask_skills(PromptTerminal& terminal, bool current) {
  const std::vector<Choice> choices = {
      {"Yes", "Share ~/.claude skills, commands, agents and CLAUDE.md, read-only, at every start"},
      {"No", "Start without them (claude-container sync-skills shares them with a running container)"},
  };
  return terminal.select("Sync your Claude skills to the container?", choices, current ? 0 : 1) == 0;
}

void ask_network(PromptTerminal& terminal, Config& config) {
  const std::vector<config::NetworkPolicy> values = {config::NetworkPolicy::none, config::NetworkPolicy::isolated,
                                                     config::NetworkPolicy::development, config::NetworkPolicy::full};
  const std::vector<Choice> choices = {
      {"None", "No network at all; loopback only"},
      {"Isolated", "Anthropic's API only (recommended)"},
      {"Development", "API, package registries and git hosts"},
      {"Full", "The whole internet"},
  };
  config.network.policy = values[terminal.select("Network access:", choices, index_of(values, config.network.policy))];
}

void ask_storage(PromptTerminal& terminal, Config& config) {
  const std::vector<config::StorageType> values = {config::StorageType::volume, config::StorageType::bind,
                                                   config::StorageType::hybrid};
  const std::vector<Choice> choices = {
      {"Isolated volume", "A copy of the project; the host project is not visible (recommended)"},
      {"Bind mount", "The project folder itself, read-write"},
      {"Hybrid", "The project read-only with a change layer: review with diff, take with apply"},
  };
  config.storage.type = values[terminal.select("Workspace storage:", choices, index_of(values, config.storage.type))];
}

void ask_credentials(PromptTerminal& terminal, Config& config) {
  const std::vector<config::ApiCredentials> values = {config::ApiCredentials::gateway, config::ApiCredentials::separate,
                                                      config::ApiCredentials::shared};
  const std::vector<Choice> choices = {
      {"Gateway", "The key stays on the host and is added to requests on the way out; the agent cannot read it "
                  "(recommended)"},
      {"Separate", "The container keeps its own Claude login (/login inside); nothing of the host's"},
      {"Shared", "Your key or token goes into the container's environment, where any process there can read it"},
  };
  config.credentials.api =
      values[terminal.select("API credentials:", choices, index_of(values, config.credentials.api))];
  if (config.credentials.api != config::ApiCredentials::separate) {
    terminal.print("  The key or token is taken from ANTHROPIC_API_KEY, else CLAUDE_CODE_OAUTH_TOKEN (from `claude "
                   "setup-token`), else what `claude-container login` stored.");
  }
}

void ask_mcp(PromptTerminal& terminal, Config& config, const InitFlags& flags) {
  if (!flags.mcp_placement) {
    const std::vector<config::McpPlacement> values = {config::McpPlacement::container, config::McpPlacement::host,
                                                      config::McpPlacement::both};
    const std::vector<Choice> choices = {
        {"Container", "MCP servers run inside, with the container's limits (recommended)"},
        {"Host", "Connect to MCP servers on this computer (they are not isolated)"},
        {"Both", "Servers inside plus the host's"},
    };
    config.mcp.placement =
        values[terminal.select("Where should MCP servers run?", choices, index_of(values, config.mcp.placement))];
  }
  if (!flags.mcp) {
    const std::vector<config::McpServer> values = {config::McpServer::filesystem, config::McpServer::brave,
                                                   config::McpServer::github, config::McpServer::postgres};
    const std::vector<Choice> choices = {
        {"Filesystem", "Read and write files in /workspace"},
        {"Brave Search", "Web search; needs BRAVE_API_KEY on the host"},
        {"GitHub", "Issues and pull requests; needs GITHUB_PERSONAL_ACCESS_TOKEN on the host"},
        {"PostgreSQL", "Query a database; needs POSTGRES_URL on the host"},
    };
    std::vector<bool> selected(values.size(), false);
    for (auto server : config.mcp.servers) selected[index_of(values, server)] = true;
    selected = terminal.multi_select("Which MCP servers?", choices, selected);
    config.mcp.servers.clear();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (selected[i]) config.mcp.servers.push_back(values[i]);
    }
  }
}

void ask_git(PromptTerminal& terminal, Config& config, const InitFlags& flags) {
  if (!flags.git_name) config.git.name = terminal.text("Git user name:", config.git.name);
  if (!flags.git_email) config.git.email = terminal.text("Git email:", config.git.email);
  if (!flags.git_credentials) {
    const std::vector<config::GitCredentials> values = {config::GitCredentials::none, config::GitCredentials::pat,
                                                        config::GitCredentials::ssh};
    const std::vector<Choice> choices = {
        {"None", "No git credentials inside"},
        {"Personal access token", "A credential helper hands out a token from the host; never a file"},
        {"SSH agent", "The host's ssh-agent socket; the private keys stay on the host"},
    };
    config.git.credentials =
        values[terminal.select("Git credentials:", choices, index_of(values, config.git.credentials))];
  }
}

void ask_environment(PromptTerminal& terminal, Config& config, const InitFlags& flags) {
  if (flags.env_file || !flags.env.empty()) return;
  std::vector<Choice> choices;
  bool has_current = !config.env.empty() || !config.env_file.empty();
  if (has_current) {
    std::string what = std::to_string(config.env.size()) + " variable(s)";
    if (!config.env_file.empty()) what += " and " + config.env_file;
    choices.push_back({"Keep the current ones", what});
  }
  choices.push_back({"None", "No extra environment variables"});
  choices.push_back({"From a .env file", "Read KEY=VALUE lines from a file in the project at start"});
  choices.push_back({"Type them now", "NAME=value; write secrets as NAME=${HOST_VARIABLE}"});
  std::size_t picked = terminal.select("Extra environment variables:", choices, 0);
  if (has_current) {
    if (picked == 0) return;
    --picked;
  }
  if (picked == 0) {
    config.env.clear();
    config.env_file.clear();
  } else if (picked == 1) {
    config.env.clear();
    config.env_file = terminal.text("Path of the .env file, relative to the project:", ".env",
                                    [](const std::string& text) -> std::optional<std::string> {
                                      if (text.empty()) return "type a path, such as .env";
                                      if (std::filesystem::path(text).is_absolute()) {
                                        return "use a path inside the project, relative to it";
                                      }
                                      return std::nullopt;
                                    });
  } else {
    config.env.clear();
    config.env_file.clear();
    terminal.print("  One NAME=value per line; an empty line ends the list.");
    for (;;) {
      std::string line = terminal.text("Variable:", "", [](const std::string& text) -> std::optional<std::string> {
        if (text.empty()) return std::nullopt;
        return validator(parse_env_assignment)(text);
      });
      if (line.empty()) break;
      auto [key, value] = parse_env_assignment(line);
      config.env[key] = value;
    }
  }
}

std::string format_cpus(double cpus) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", cpus);
  return text;
}

void ask_container_settings(PromptTerminal& terminal, Config& config, const InitFlags& flags) {
  if (!flags.engine) {
    const std::vector<config::EngineKind> values = {config::EngineKind::automatic, config::EngineKind::native,
                                                    config::EngineKind::apple, config::EngineKind::docker,
                                                    config::EngineKind::podman};
    const std::vector<Choice> choices = {
        {"Auto", "native on Linux, apple on macOS"},
        {"Native", "Built-in Linux namespaces; no daemon, no image"},
        {"Apple", "Apple's container CLI (macOS 26+)"},
        {"Docker", "The docker CLI"},
        {"Podman", "The podman CLI"},
    };
    config.engine = values[terminal.select("Container engine:", choices, index_of(values, config.engine))];
  }
  if (!flags.image) {
    const std::vector<std::string> values = {"host", "debian", "ubuntu", "alpine"};
    const std::vector<Choice> choices = {
        {"host", "This computer's system, read-only (native engine; nothing to build)"},
        {"debian", "Debian 12 image built from the Containerfile"},
        {"ubuntu", "Ubuntu 24.04 image built from the Containerfile"},
        {"alpine", "Alpine image built from the Containerfile"},
    };
    config.image.base = values[terminal.select("Base image:", choices, index_of(values, config.image.base))];
  }
  if (!flags.cpus) {
    config.resources.cpus =
        parse_cpus_answer(terminal.text("CPUs:", format_cpus(config.resources.cpus), validator(parse_cpus_answer)));
  }
  if (!flags.memory) {
    auto check_memory = [](const std::string& text) {
      config::Resources scratch;
      config::set_memory(scratch, text);
    };
    config::set_memory(config.resources,
                       terminal.text("Memory (e.g. 4g, 512m):", config.resources.memory_text, validator(check_memory)));
  }
  if (!flags.name) {
    config.name = terminal.text("Container name:", config.name, [](const std::string& text) -> std::optional<std::string> {
      if (config::valid_name(text)) return std::nullopt;
      return "use 1-63 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit";
    });
  }
}

}  // namespace

std::string settings_summary_line(const Config& config) {
  return "mode " + config::to_string(config.mode) + ", name " + config.name + ", network " +
         config::to_string(config.network.policy) + ", storage " + config::to_string(config.storage.type) +
         ", credentials " + config::to_string(config.credentials.api) + ", engine " + config::to_string(config.engine);
}

Config run_setup_wizard(PromptTerminal& terminal, const SetupStart& start, const InitFlags& flags) {
  terminal.print(terminal.colour() ? "\x1b[1mclaude-container setup\x1b[0m for " + start.project_dir.string()
                                   : "claude-container setup for " + start.project_dir.string());
  if (start.current) {
    terminal.print("This project is set up already: " + settings_summary_line(*start.current) + ".");
    terminal.print("Your answers reconfigure it; the current values are the defaults.");
  }
  config::Mode mode = flags.mode ? parse_mode_answer(*flags.mode) : ask_mode(terminal, start);
  Config config = starting_config(start, mode);
  if (mode != config::Mode::custom) {
    if (!flags.skills) config.skills.sync = ask_skills(terminal, config.skills.sync);
    apply_flags(config, flags);
    return config;
  }
  default_git_identity_from_host(config, start);
  if (!flags.network) ask_network(terminal, config);
  if (!flags.storage) ask_storage(terminal, config);
  if (!flags.credentials) ask_credentials(terminal, config);
  if (!flags.skills) config.skills.sync = ask_skills(terminal, config.skills.sync);
  ask_mcp(terminal, config, flags);
  ask_git(terminal, config, flags);
  ask_environment(terminal, config, flags);
  ask_container_settings(terminal, config, flags);
  apply_flags(config, flags);
  return config;
}

}  // namespace cc::cli
