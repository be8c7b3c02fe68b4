#include "cli/setup_config.hpp"

#include <cstdio>
#include <sstream>

#include "config/config_io.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace fs = std::filesystem;

namespace {

Error bad_value(const std::string& flag, const std::string& value, const std::string& allowed) {
  return usage_error("init failed: " + flag + " '" + value + "' is not allowed; use one of: " + allowed + ".");
}

template <typename Parse>
auto parse_or_throw(Parse parse, const std::string& flag, const std::string& value, const std::string& allowed) {
  auto parsed = parse(value);
  if (!parsed) throw bad_value(flag, value, allowed);
  return *parsed;
}

std::string trim(const std::string& text) {
  auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

SetupStart load_setup_start(const fs::path& project_dir, bool force) {
  SetupStart start;
  start.project_dir = project_dir;
  if (!fs::exists(project_dir / config::kConfigFile)) return start;
  try {
    start.current = config::load_config(project_dir);
  } catch (const Error& error) {
    if (!force) {
      throw usage_error(std::string(error.what()) +
                        " Fix config.json, or run `claude-container init --force` to replace it with new settings.");
    }
  }
  return start;
}

config::Config starting_config(const SetupStart& start, config::Mode mode) {
  if (!start.current) {
    return config::preset(mode, config::default_name(start.project_dir.filename().string(), mode));
  }
  config::Config result = *start.current;
  result.mode = mode;
  if (mode != config::Mode::custom) {
    config::Config fixed = config::preset(mode, result.name);
    result.network.policy = fixed.network.policy;
    result.storage = fixed.storage;
    result.credentials.api = fixed.credentials.api;
  }
  return result;
}

config::Mode parse_mode_answer(const std::string& text) {
  return parse_or_throw(config::parse_mode, "--mode", text, config::allowed_values_mode());
}

double parse_cpus_answer(const std::string& text) {
  try {
    std::size_t used = 0;
    double cpus = std::stod(text, &used);
    if (used == text.size() && cpus > 0 && cpus <= 1024) return cpus;
  } catch (const std::exception&) {
  }
  throw bad_value("--cpus", text, "a number of CPUs above 0, such as 2 or 0.5");
}

std::vector<config::McpServer> parse_mcp_list(const std::string& text) {
  std::vector<config::McpServer> servers;
  std::string trimmed = trim(text);
  if (trimmed.empty() || trimmed == "none") return servers;
  std::stringstream stream(trimmed);
  for (std::string item; std::getline(stream, item, ',');) {
    item = trim(item);
    if (item.empty()) continue;
    auto server = parse_or_throw(config::parse_mcp_server, "--mcp", item,
                                 config::allowed_values_mcp_server() + " (comma-separated), or none");
    if (std::find(servers.begin(), servers.end(), server) == servers.end()) servers.push_back(server);
  }
  return servers;
}

std::pair<std::string, std::string> parse_env_assignment(const std::string& text) {
  auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw usage_error("init failed: --env '" + text + "' is not KEY=VALUE. Write it as NAME=value, and a secret as "
                      "NAME=${HOST_VARIABLE}.");
  }
  std::string key = text.substr(0, equals);
  std::string value = text.substr(equals + 1);
  if (!config::valid_env_name(key)) {
    throw usage_error("init failed: --env name '" + key + "' is not a variable name; use letters, digits and _ "
                      "and do not start with a digit.");
  }
  config::env_references(value);  // throws on a malformed ${...}
  if (auto reason = config::literal_secret_reason(key, value)) {
    throw usage_error("init failed: --env " + key + " looks like a secret written in clear (" + *reason +
                      "). Secrets never go into the project: pass " + key + "=${" + key +
                      "} and export " + key + " on the host.");
  }
  return {key, value};
}

void check_image_base(const std::string& text) {
  if (!config::valid_image_base(text)) throw bad_value("--image", text, config::allowed_values_image_base());
}

void apply_flags(config::Config& config, const InitFlags& flags) {
  const bool preset_mode = config.mode != config::Mode::custom;
  auto fixed_by_preset = [&](const std::string& flag, const std::string& given, const std::string& preset_value) {
    if (preset_mode && given != preset_value) {
      throw usage_error("init failed: " + flag + " " + given + " conflicts with --mode " + config::to_string(config.mode) +
                        ", which uses " + preset_value + ". Use --mode custom to choose it.");
    }
  };
  if (flags.network) {
    auto policy = parse_or_throw(config::parse_network_policy, "--network", *flags.network,
                                 config::allowed_values_network_policy());
    fixed_by_preset("--network", *flags.network, config::to_string(config.network.policy));
    config.network.policy = policy;
  }
  if (flags.storage) {
    auto storage = parse_or_throw(config::parse_storage, "--storage", *flags.storage, config::allowed_values_storage());
    fixed_by_preset("--storage", *flags.storage, config::to_string(config.storage.type));
    config.storage.type = storage;
  }
  if (flags.credentials) {
    auto api = parse_or_throw(config::parse_api_credentials, "--credentials", *flags.credentials,
                              config::allowed_values_api_credentials());
    fixed_by_preset("--credentials", *flags.credentials, config::to_string(config.credentials.api));
    config.credentials.api = api;
  }
  if (flags.skills) config.skills.sync = *flags.skills;
  if (flags.mcp) config.mcp.servers = parse_mcp_list(*flags.mcp);
  if (flags.mcp_placement) {
    config.mcp.placement = parse_or_throw(config::parse_mcp_placement, "--mcp-placement", *flags.mcp_placement,
                                          config::allowed_values_mcp_placement());
  }
  if (flags.git_credentials) {
    config.git.credentials = parse_or_throw(config::parse_git_credentials, "--git-credentials",
                                            *flags.git_credentials, config::allowed_values_git_credentials());
  }
  if (flags.git_name) config.git.name = *flags.git_name;
  if (flags.git_email) config.git.email = *flags.git_email;
  if (flags.git_host) config.git.host = *flags.git_host;  // checked with the rest (validate_config)
  for (const auto& assignment : flags.env) {
    auto [key, value] = parse_env_assignment(assignment);
    config.env[key] = value;
  }
  if (flags.env_file) config.env_file = *flags.env_file;
  if (flags.engine) {
    config.engine = parse_or_throw(config::parse_engine, "--engine", *flags.engine, config::allowed_values_engine());
  }
  if (flags.image) {
    check_image_base(*flags.image);
    config.image.base = *flags.image;
  }
  if (flags.cpus) config.resources.cpus = parse_cpus_answer(*flags.cpus);
  if (flags.memory) {
    try {
      config::set_memory(config.resources, *flags.memory);
    } catch (const Error& error) {
      throw usage_error(std::string("init failed: --memory: ") + error.what());
    }
  }
  if (flags.name) {
    if (!config::valid_name(*flags.name)) {
      throw usage_error("init failed: --name '" + *flags.name +
                        "' is not a container name; use 1-63 lowercase letters, digits, '_', '.' or '-', starting "
                        "with a letter or digit.");
    }
    config.name = *flags.name;
  }
}

std::string host_git_config(const std::string& key) {
  std::string command = "git config --get " + key + " 2>/dev/null";  // key is one of ours, never user text
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string value;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) value += buffer;
  ::pclose(pipe);
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

void default_git_identity_from_host(config::Config& config, const SetupStart& start) {
  if (start.current) return;  // reconfiguring: the current identity is the default
  if (config.git.name.empty()) config.git.name = host_git_config("user.name");
  if (config.git.email.empty()) config.git.email = host_git_config("user.email");
}

void validate_config(const config::Config& config) {
  config::parse_config(config::serialize_config(config), "the new settings");
}

}  // namespace cc::cli
