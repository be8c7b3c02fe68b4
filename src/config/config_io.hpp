#pragma once
// Reading and writing config.json. Reading validates every key: malformed JSON, unknown keys,
// wrong types and out-of-range values raise cc::Error with ExitCode::usage and a message of
// the form "<file>: <key path>: found <what>; allowed: <values>" (malformed JSON:
// "<file>: line L, column C: malformed JSON: ..."). Rules beyond the types:
//  - schema_version, name and mode are required; any other key left out takes the value of
//    the mode's preset, so {"schema_version":1,"name":"x","mode":"development"} is complete;
//  - a key given twice is an error (JSON parsers would silently keep one);
//  - resources.memory is a string ("512m", "4g", "4GiB", "1.5g"; see parse_memory) or a
//    positive integer of bytes, at least 64m; it is written back in the user's spelling;
//  - env values may hold ${NAME} references; a value that looks like a written-out secret
//    (token shapes, a password in a URL, or a literal under a name like *_TOKEN / *_KEY) is
//    refused, and ANTHROPIC_API_KEY & co. are refused unless credentials.api is "shared";
//  - network.allow/deny entries get a shape check here; the network layer parses them fully.
#include <filesystem>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace cc::config {

inline constexpr const char* kConfigDir = ".claude-container";
inline constexpr const char* kConfigFile = ".claude-container/config.json";

Config parse_config(const std::string& json_text, const std::string& source_name);
std::string serialize_config(const Config& config);  // pretty JSON, trailing newline, stable key order

// The config file's exact text (bounded, read beneath the project without following links)
// and the Config parsed from that same text: what approval hashes is what runs.
struct LoadedConfig {
  std::string text;
  Config config;
};
LoadedConfig read_config(const std::filesystem::path& project_dir);  // throws not_set_up when absent
Config load_config(const std::filesystem::path& project_dir);        // read_config(...).config
void save_config(const std::filesystem::path& project_dir, const Config& config);  // atomic, beneath

// Nearest ancestor of `start` (canonical) holding .claude-container/config.json; nullopt when
// none. The walk goes up only through directories this user owns (root: owned by root); a
// config in a directory, or a .claude-container, owned by someone else is refused with
// cc::Error (usage) naming the path and its owner.
std::optional<std::filesystem::path> find_project_root(const std::filesystem::path& start);

}  // namespace cc::config
