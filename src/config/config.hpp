#pragma once
// The project configuration, `.claude-container/config.json` (DESIGN.md section 3,
// schema_version 1). Every read validates strictly; see config_io.hpp.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cc::config {

inline constexpr int kSchemaVersion = 1;

enum class Mode { playground, development, custom };
enum class EngineKind { automatic, native, apple, docker, podman };  // "auto" in JSON
enum class NetworkPolicy { none, isolated, development, full };
enum class StorageType { volume, bind, hybrid };
enum class ApiCredentials { gateway, separate, shared };
enum class McpPlacement { container, host, both };
enum class McpServer { filesystem, brave, github, postgres };
enum class GitCredentials { none, pat, ssh };

struct Image {
  std::string base = "host";  // host | debian | ubuntu | alpine (images the Containerfile builds)
  std::string containerfile = ".claude-container/Containerfile";
};

struct Network {
  NetworkPolicy policy = NetworkPolicy::isolated;
  std::vector<std::string> allow;  // domain patterns, see net/ domain rules
  std::vector<std::string> deny;
};

struct Storage {
  StorageType type = StorageType::volume;
};

struct Credentials {
  ApiCredentials api = ApiCredentials::gateway;
  std::string upstream = "https://api.anthropic.com";
  std::string ca_file;
};

struct Skills {
  bool sync = true;
};

struct Mcp {
  McpPlacement placement = McpPlacement::container;
  std::vector<McpServer> servers;
};

struct Git {
  std::string name;
  std::string email;
  GitCredentials credentials = GitCredentials::none;
};

struct Resources {
  double cpus = 2;              // > 0
  std::uint64_t memory = 4ull << 30;  // bytes; JSON keeps the user's spelling, see memory_text
  std::string memory_text = "4g";
  std::uint64_t pids = 4096;
};

struct Agent {
  std::string command = "claude";
  bool skip_permissions = false;
};

struct Config {
  int schema_version = kSchemaVersion;
  std::string name;  // ^[a-z0-9][a-z0-9_.-]{0,62}$
  Mode mode = Mode::playground;
  EngineKind engine = EngineKind::automatic;
  Image image;
  Network network;
  Storage storage;
  Credentials credentials;
  Skills skills;
  Mcp mcp;
  Git git;
  std::map<std::string, std::string> env;  // values may be ${VAR} references, never secrets
  std::string env_file;                    // relative to the project directory
  Resources resources;
  Agent agent;
};

// Enum <-> JSON spelling. to_string gives the exact value written to config.json.
std::string to_string(Mode);
std::string to_string(EngineKind);
std::string to_string(NetworkPolicy);
std::string to_string(StorageType);
std::string to_string(ApiCredentials);
std::string to_string(McpPlacement);
std::string to_string(McpServer);
std::string to_string(GitCredentials);

// Parse helpers used by the CLI flags as well as the JSON reader; nullopt when unknown.
std::optional<Mode> parse_mode(const std::string&);
std::optional<EngineKind> parse_engine(const std::string&);
std::optional<NetworkPolicy> parse_network_policy(const std::string&);
std::optional<StorageType> parse_storage(const std::string&);
std::optional<ApiCredentials> parse_api_credentials(const std::string&);
std::optional<McpPlacement> parse_mcp_placement(const std::string&);
std::optional<McpServer> parse_mcp_server(const std::string&);
std::optional<GitCredentials> parse_git_credentials(const std::string&);

// "512m", "4g", "4GiB", "1073741824" -> bytes; nullopt when not a size.
std::optional<std::uint64_t> parse_memory(const std::string&);

// The allowed spellings, for error messages and prompts ("none | isolated | development | full").
std::string allowed_values_network_policy();

// Presets (DESIGN.md section 3): Playground and Development fix everything but skills.
Config preset(Mode mode, const std::string& name);

// "<project dir name>-<mode>", lowercased and sanitised to the name pattern.
std::string default_name(const std::string& project_dir_name, Mode mode);
bool valid_name(const std::string& name);

}  // namespace cc::config
