#pragma once
// What a config change means, in words, for the approval prompt and `claude-container trust`:
// "network: isolated → full", "env HARMLESS takes the host's ANTHROPIC_API_KEY",
// "env_file: .env → /etc/secrets.env (outside the project)".
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::config {

// The settings that differ between `before` (the last approved config) and `after`. With no
// `before` (nothing approved yet) each setting that differs from the Playground defaults is
// listed as "key: value", and every env entry and path is named.
std::vector<std::string> describe_config_changes(const std::optional<Config>& before, const Config& after,
                                                 const std::filesystem::path& project_dir);

}  // namespace cc::config
