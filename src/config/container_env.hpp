#pragma once
// The variables a config puts into the container: `env_file` (read through config_paths, so
// never through a link the project ships) and then `env`, whose ${VAR} references are
// expanded by the one expander, expand_env_references: a missing variable is an error naming
// it, never an empty string. The CLI calls this before `start` (so a refused start creates
// nothing) and the engine calls it for every process it starts inside.
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace cc::config {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Looks names up in this process's environment.
EnvLookup host_environment();

// KEY=VALUE lines ("export " and one pair of quotes allowed, # comments); throws cc::Error
// (usage) naming source and line for anything else.
std::map<std::string, std::string> parse_env_file(const std::string& text, const std::string& source);

std::map<std::string, std::string> container_env(const Config& config, const std::filesystem::path& project_dir,
                                                 const EnvLookup& lookup);

}  // namespace cc::config
