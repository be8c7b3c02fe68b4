#pragma once
// Reading and writing config.json. Reading validates every key: malformed JSON, unknown keys,
// wrong types and out-of-range values raise cc::Error with ExitCode::usage and a message of
// the form "<file>: <key path>: found <what>; allowed: <values>".
#include <filesystem>
#include <string>

#include "config/config.hpp"

namespace cc::config {

inline constexpr const char* kConfigDir = ".claude-container";
inline constexpr const char* kConfigFile = ".claude-container/config.json";

Config parse_config(const std::string& json_text, const std::string& source_name);
std::string serialize_config(const Config& config);  // pretty JSON, trailing newline, stable key order

Config load_config(const std::filesystem::path& project_dir);  // throws not_set_up when absent
void save_config(const std::filesystem::path& project_dir, const Config& config);  // atomic

// Nearest ancestor of `start` holding .claude-container/config.json; nullopt when none.
std::optional<std::filesystem::path> find_project_root(const std::filesystem::path& start);

}  // namespace cc::config
