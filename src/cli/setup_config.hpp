#pragma once
// Turning `init` answers (flags, or the wizard's questions) into a Config. The wizard and the
// flags share these functions so both paths validate and apply answers the same way.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::cli {

// Every `init` answer that can be given as a flag; unset optionals were not given.
struct InitFlags {
  std::optional<std::string> mode;
  std::optional<std::string> network;
  std::optional<std::string> storage;
  std::optional<std::string> credentials;
  std::optional<bool> skills;
  std::optional<std::string> mcp;  // comma list, "none" or "" for no servers
  std::optional<std::string> mcp_placement;
  std::optional<std::string> git_credentials;
  std::optional<std::string> git_name;
  std::optional<std::string> git_email;
  std::optional<std::string> git_host;
  std::vector<std::string> env;  // KEY=VALUE
  std::optional<std::string> env_file;
  std::optional<std::string> engine;
  std::optional<std::string> image;
  std::optional<std::string> cpus;
  std::optional<std::string> memory;
  std::optional<std::string> name;
  bool yes = false;
  bool force = false;
};

// Where setup starts: the project and, when it was set up before, its current settings.
struct SetupStart {
  std::filesystem::path project_dir;
  std::optional<config::Config> current;
};

// Reads the current config when there is one. A broken config.json stops init (exit 2)
// unless force, which starts from defaults instead.
SetupStart load_setup_start(const std::filesystem::path& project_dir, bool force);

// The config a mode starts from: the current settings with the mode's preset applied
// (Playground/Development fix network, storage and credentials), or the preset itself for
// a new project. The name stays when reconfiguring.
config::Config starting_config(const SetupStart& start, config::Mode mode);

// Applies the flags given; throws usage errors naming the flag and the allowed values. For
// Playground and Development, --network/--storage/--credentials must match the preset.
void apply_flags(config::Config& config, const InitFlags& flags);

// Each single answer, validated; the wizard calls these too. Throw usage errors naming `flag`.
config::Mode parse_mode_answer(const std::string& text);
double parse_cpus_answer(const std::string& text);
std::vector<config::McpServer> parse_mcp_list(const std::string& text);
std::pair<std::string, std::string> parse_env_assignment(const std::string& text);
void check_image_base(const std::string& text);

// The host's `git config user.name` / `user.email`, empty when unset or git is missing.
std::string host_git_config(const std::string& key);

// New Custom projects take the host's git identity as the default.
void default_git_identity_from_host(config::Config& config, const SetupStart& start);

// Round-trips through the strict reader so init never writes a config it would reject.
void validate_config(const config::Config& config);

}  // namespace cc::cli
