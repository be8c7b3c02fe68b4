#pragma once
// The project configuration, `.claude-container/config.json` (DESIGN.md section 3,
// schema_version 1). Every read validates strictly; see config_io.hpp.
#include <cstdint>
#include <functional>
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
  // `full` without pasta (passt) would share the host's network namespace: its loopback
  // services and abstract unix sockets. Only when the user asks for that by name.
  bool host_network = false;
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
  // The one host the credentials serve (host name, optional :port): the PAT helper answers
  // only for https://host, and "ssh" opens only host:22 in the network policy.
  std::string host = "github.com";
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
std::string allowed_values_mode();
std::string allowed_values_engine();
std::string allowed_values_storage();
std::string allowed_values_api_credentials();
std::string allowed_values_mcp_placement();
std::string allowed_values_mcp_server();
std::string allowed_values_git_credentials();
std::string allowed_values_image_base();  // "host | debian | ubuntu | alpine"
bool valid_image_base(const std::string& base);

// Memory sizes. Units are binary and case-insensitive: b, k/kb/kib, m/mb/mib, g/gb/gib,
// t/tb/tib ("4gb" = "4GiB" = 4 * 2^30, as docker reads it); a decimal number with a unit
// ("1.5g") is accepted and rounded down to whole bytes; a plain number is bytes.
inline constexpr std::uint64_t kMinMemoryBytes = 64ull << 20;  // below this Claude Code cannot run
std::string allowed_memory_spellings();  // for error messages
// "4g" for 4 GiB, "1536m", or plain bytes when no unit divides evenly.
std::string format_memory(std::uint64_t bytes);
// Sets memory and memory_text from the user's spelling; throws cc::Error (usage) when the
// text is not a size or is below kMinMemoryBytes.
void set_memory(Resources& resources, const std::string& text);

// Environment values: `${NAME}` references (NAME = [A-Za-z_][A-Za-z0-9_]*) are expanded from
// the host environment at start, so secrets stay out of config.json.
bool valid_env_name(const std::string& name);
// The names referenced by `${NAME}` in value; throws cc::Error (usage) on a malformed
// reference such as "${" or "${1X}".
std::vector<std::string> env_references(const std::string& value);
// Replaces every ${NAME} with lookup(NAME); a missing variable is an error naming it.
std::string expand_env_references(const std::string& value,
                                  const std::function<std::optional<std::string>(const std::string&)>& lookup);
// Why this env entry looks like a literal secret ("the name FOO_TOKEN suggests a secret"),
// or nullopt when it is fine. A value made only of ${NAME} references is never a secret.
std::optional<std::string> literal_secret_reason(const std::string& key, const std::string& value);

// The host variables holding the Anthropic key or token (ANTHROPIC_API_KEY,
// ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN); credentials.api decides how they get in.
bool is_api_credential_variable(const std::string& name);
// A name like FOO_TOKEN, API_KEY, DB_PASSWORD: its value is probably a secret.
bool name_suggests_secret(const std::string& name);
// True when config `env` passes the host's API key or token in, by its key
// ("ANTHROPIC_API_KEY": ...) or by reference ("HARMLESS": "${ANTHROPIC_API_KEY}").
bool env_passes_api_key(const Config& config);
// The host variables `env` hands in by ${VAR} reference whose names suggest secrets (the API
// key's included), sorted and without repeats: secrets are judged by where the value comes
// from, not only by the key it lands in.
std::vector<std::string> env_secret_references(const Config& config);

// Presets (DESIGN.md section 3): Playground and Development fix everything but skills.
Config preset(Mode mode, const std::string& name);

// "<project dir name>-<mode>", lowercased and sanitised to the name pattern.
std::string default_name(const std::string& project_dir_name, Mode mode);
bool valid_name(const std::string& name);

}  // namespace cc::config
