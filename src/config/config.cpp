#include "config/config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <set>
#include <utility>

#include "config/text_shapes.hpp"
#include "util/error.hpp"

namespace cc::config {
namespace {

// One table per enum: the JSON spelling of each value, in the order shown to users.
template <typename E, std::size_t N>
using Spellings = std::array<std::pair<E, const char*>, N>;

constexpr Spellings<Mode, 3> kModes{{{Mode::playground, "playground"},
                                     {Mode::development, "development"},
                                     {Mode::custom, "custom"}}};
constexpr Spellings<EngineKind, 5> kEngines{{{EngineKind::automatic, "auto"},
                                             {EngineKind::native, "native"},
                                             {EngineKind::apple, "apple"},
                                             {EngineKind::docker, "docker"},
                                             {EngineKind::podman, "podman"}}};
constexpr Spellings<NetworkPolicy, 4> kPolicies{{{NetworkPolicy::none, "none"},
                                                 {NetworkPolicy::isolated, "isolated"},
                                                 {NetworkPolicy::development, "development"},
                                                 {NetworkPolicy::full, "full"}}};
constexpr Spellings<StorageType, 3> kStorage{{{StorageType::volume, "volume"},
                                              {StorageType::bind, "bind"},
                                              {StorageType::hybrid, "hybrid"}}};
constexpr Spellings<ApiCredentials, 3> kApi{{{ApiCredentials::gateway, "gateway"},
                                             {ApiCredentials::separate, "separate"},
                                             {ApiCredentials::shared, "shared"}}};
constexpr Spellings<McpPlacement, 3> kPlacements{{{McpPlacement::container, "container"},
                                                  {McpPlacement::host, "host"},
                                                  {McpPlacement::both, "both"}}};
constexpr Spellings<McpServer, 4> kServers{{{McpServer::filesystem, "filesystem"},
                                            {McpServer::brave, "brave"},
                                            {McpServer::github, "github"},
                                            {McpServer::postgres, "postgres"}}};
constexpr Spellings<GitCredentials, 3> kGit{{{GitCredentials::none, "none"},
                                             {GitCredentials::pat, "pat"},
                                             {GitCredentials::ssh, "ssh"}}};
constexpr std::array<const char*, 4> kImageBases{"host", "debian", "ubuntu", "alpine"};

template <typename E, std::size_t N>
std::string spelling_of(const Spellings<E, N>& table, E value) {
  for (const auto& [v, text] : table)
    if (v == value) return text;
  throw Error("internal error: enum value without a spelling");
}

template <typename E, std::size_t N>
std::optional<E> value_of(const Spellings<E, N>& table, const std::string& text) {
  for (const auto& [v, spelling] : table)
    if (text == spelling) return v;
  return std::nullopt;
}

template <typename Table>
std::string joined(const Table& table) {
  std::string out;
  for (const auto& entry : table) {
    if (!out.empty()) out += " | ";
    if constexpr (std::is_same_v<std::decay_t<decltype(entry)>, const char*>)
      out += entry;
    else
      out += entry.second;
  }
  return out;
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

std::string to_string(Mode v) { return spelling_of(kModes, v); }
std::string to_string(EngineKind v) { return spelling_of(kEngines, v); }
std::string to_string(NetworkPolicy v) { return spelling_of(kPolicies, v); }
std::string to_string(StorageType v) { return spelling_of(kStorage, v); }
std::string to_string(ApiCredentials v) { return spelling_of(kApi, v); }
std::string to_string(McpPlacement v) { return spelling_of(kPlacements, v); }
std::string to_string(McpServer v) { return spelling_of(kServers, v); }
std::string to_string(GitCredentials v) { return spelling_of(kGit, v); }

std::optional<Mode> parse_mode(const std::string& s) { return value_of(kModes, s); }
std::optional<EngineKind> parse_engine(const std::string& s) { return value_of(kEngines, s); }
std::optional<NetworkPolicy> parse_network_policy(const std::string& s) { return value_of(kPolicies, s); }
std::optional<StorageType> parse_storage(const std::string& s) { return value_of(kStorage, s); }
std::optional<ApiCredentials> parse_api_credentials(const std::string& s) { return value_of(kApi, s); }
std::optional<McpPlacement> parse_mcp_placement(const std::string& s) { return value_of(kPlacements, s); }
std::optional<McpServer> parse_mcp_server(const std::string& s) { return value_of(kServers, s); }
std::optional<GitCredentials> parse_git_credentials(const std::string& s) { return value_of(kGit, s); }

std::string allowed_values_network_policy() { return joined(kPolicies); }
std::string allowed_values_mode() { return joined(kModes); }
std::string allowed_values_engine() { return joined(kEngines); }
std::string allowed_values_storage() { return joined(kStorage); }
std::string allowed_values_api_credentials() { return joined(kApi); }
std::string allowed_values_mcp_placement() { return joined(kPlacements); }
std::string allowed_values_mcp_server() { return joined(kServers); }
std::string allowed_values_git_credentials() { return joined(kGit); }
std::string allowed_values_image_base() { return joined(kImageBases); }

bool valid_image_base(const std::string& base) {
  return std::find(kImageBases.begin(), kImageBases.end(), base) != kImageBases.end();
}

// ---- memory ------------------------------------------------------------------------------

std::optional<std::uint64_t> parse_memory(const std::string& text) {
  // digits, an optional ".digits" fraction, an optional unit of letters; nothing else.
  if (text.size() > 64) return std::nullopt;
  std::size_t pos = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos == 0) return std::nullopt;
  const std::string whole = text.substr(0, pos);
  std::string fraction_text;
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t start = pos++;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == start + 1) return std::nullopt;
    fraction_text = text.substr(start, pos - start);
  }
  for (std::size_t k = pos; k < text.size(); ++k)
    if (!std::isalpha(static_cast<unsigned char>(text[k]))) return std::nullopt;
  const std::string unit = lowercase(text.substr(pos));
  int shift = -1;
  if (unit.empty() || unit == "b") shift = 0;
  else if (unit == "k" || unit == "kb" || unit == "kib") shift = 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") shift = 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") shift = 30;
  else if (unit == "t" || unit == "tb" || unit == "tib") shift = 40;
  if (shift < 0) return std::nullopt;
  const bool has_fraction = !fraction_text.empty();
  if (has_fraction && shift == 0) return std::nullopt;  // "1.5" or "1.5b" bytes make no sense

  if (whole.size() > 19) return std::nullopt;
  const std::uint64_t integer = std::stoull(whole);
  const std::uint64_t unit_size = std::uint64_t{1} << shift;
  if (integer > (UINT64_MAX >> 1) / unit_size) return std::nullopt;  // keep far from overflow
  std::uint64_t bytes = integer * unit_size;
  if (has_fraction) {
    // Fraction of one unit, computed in long double: at most 2^40 * 1.0, exact enough.
    const long double fraction = std::stold("0" + fraction_text);
    bytes += static_cast<std::uint64_t>(std::floor(fraction * static_cast<long double>(unit_size)));
  }
  if (bytes == 0) return std::nullopt;
  return bytes;
}

std::string allowed_memory_spellings() {
  return "a size such as \"512m\", \"4g\", \"4GiB\", \"1.5g\" or a number of bytes, at least 64m";
}

std::string format_memory(std::uint64_t bytes) {
  static constexpr std::array<std::pair<int, const char*>, 4> units{{{40, "t"}, {30, "g"}, {20, "m"}, {10, "k"}}};
  for (const auto& [shift, suffix] : units) {
    const std::uint64_t size = std::uint64_t{1} << shift;
    if (bytes >= size && bytes % size == 0) return std::to_string(bytes / size) + suffix;
  }
  return std::to_string(bytes);
}

void set_memory(Resources& resources, const std::string& text) {
  auto bytes = parse_memory(text);
  if (!bytes) throw usage_error("memory: found \"" + text + "\"; allowed: " + allowed_memory_spellings());
  if (*bytes < kMinMemoryBytes)
    throw usage_error("memory: found \"" + text + "\" (" + std::to_string(*bytes) +
                      " bytes), which is too little to run Claude Code; allowed: at least 64m");
  resources.memory = *bytes;
  resources.memory_text = text;
}

// ---- names -------------------------------------------------------------------------------

bool valid_name(const std::string& name) { return shapes::is_container_name(name); }

std::string default_name(const std::string& project_dir_name, Mode mode) {
  const std::string suffix = "-" + to_string(mode);
  std::string base;
  for (unsigned char c : lowercase(project_dir_name)) {
    const bool allowed = std::isalnum(c) || c == '_' || c == '.' || c == '-';
    base.push_back(allowed && c < 0x80 ? static_cast<char>(c) : '-');
  }
  // The name must start with [a-z0-9]: drop leading punctuation ("." or "-" from ".hidden").
  base.erase(0, base.find_first_not_of("_.-"));
  if (base.empty()) base = "project";
  const std::size_t room = 63 - suffix.size();
  if (base.size() > room) base.resize(room);
  return base + suffix;
}

// ---- presets -----------------------------------------------------------------------------

Config preset(Mode mode, const std::string& name) {
  Config config;  // the defaults are the Playground values, the safe side
  config.name = name;
  config.mode = mode;
  if (mode == Mode::development) {
    config.network.policy = NetworkPolicy::full;
    config.storage.type = StorageType::bind;
    config.credentials.api = ApiCredentials::shared;
  }
  return config;
}

// ---- environment references --------------------------------------------------------------

bool valid_env_name(const std::string& name) { return shapes::is_env_name(name); }

namespace {

// A value inside an error message: long ones are cut (a hostile config must not flood stderr).
std::string shown(const std::string& value) {
  if (value.size() <= 60) return "\"" + value + "\"";
  return "\"" + value.substr(0, 60) + "...\" (" + std::to_string(value.size()) + " bytes)";
}

// Calls on_text for literal runs and on_reference for each ${NAME}; throws on a bad reference.
template <typename OnText, typename OnReference>
void scan_references(const std::string& value, OnText on_text, OnReference on_reference) {
  std::size_t pos = 0;
  while (pos < value.size()) {
    const std::size_t start = value.find("${", pos);
    if (start == std::string::npos) {
      on_text(value.substr(pos));
      return;
    }
    on_text(value.substr(pos, start - pos));
    const std::size_t end = value.find('}', start + 2);
    if (end == std::string::npos)
      throw usage_error(shown(value) + " has a \"${\" without a closing \"}\"; write ${NAME}");
    const std::string name = value.substr(start + 2, end - start - 2);
    if (!valid_env_name(name))
      throw usage_error(shown(value) + " refers to \"${" + name +
                        "}\", which is not a variable name; write ${NAME} with NAME made of letters, digits and _");
    on_reference(name);
    pos = end + 1;
  }
}

}  // namespace

bool name_suggests_secret(const std::string& key) {
  static const std::array<const char*, 9> words{"KEY",      "TOKEN",  "SECRET",     "PASSWORD", "PASSWD",
                                                "PASSPHRASE", "CREDENTIAL", "AUTH", "PAT"};
  std::string upper = key;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  // Compare against the name's _-separated words so that "PATH" or "KEYBOARD_LAYOUT" pass.
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= upper.size()) {
    const std::size_t end = upper.find('_', start);
    parts.push_back(upper.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (const auto& part : parts)
    for (const char* word : words)
      if (part == word || part == std::string(word) + "S") return true;
  return false;
}

bool is_api_credential_variable(const std::string& name) {
  return name == "ANTHROPIC_API_KEY" || name == "ANTHROPIC_AUTH_TOKEN" || name == "CLAUDE_CODE_OAUTH_TOKEN";
}

bool env_passes_api_key(const Config& config) {
  for (const auto& [key, value] : config.env) {
    if (is_api_credential_variable(key)) return true;
    for (const auto& name : env_references(value))
      if (is_api_credential_variable(name)) return true;
  }
  return false;
}

std::vector<std::string> env_secret_references(const Config& config) {
  std::set<std::string> names;
  for (const auto& [key, value] : config.env)
    for (const auto& name : env_references(value))
      if (is_api_credential_variable(name) || name_suggests_secret(name)) names.insert(name);
  return {names.begin(), names.end()};
}

std::vector<std::string> env_references(const std::string& value) {
  std::vector<std::string> names;
  scan_references(value, [](const std::string&) {}, [&](const std::string& name) { names.push_back(name); });
  return names;
}

std::string expand_env_references(const std::string& value,
                                  const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::string out;
  scan_references(
      value, [&](const std::string& text) { out += text; },
      [&](const std::string& name) {
        auto found = lookup(name);
        if (!found)
          throw usage_error("the environment variable " + name + " is not set; " + shown(value) +
                            " refers to it. Set it on the host, then try again");
        out += *found;
      });
  return out;
}

std::optional<std::string> literal_secret_reason(const std::string& key, const std::string& value) {
  std::string literal;
  scan_references(value, [&](const std::string& text) { literal += text; }, [](const std::string&) {});
  if (literal.empty()) return std::nullopt;  // empty, or only ${NAME} references

  // Well-known token prefixes: a real secret whatever the variable is called.
  if (shapes::contains_token_shape(literal)) return "its value looks like an API token or private key";
  if (shapes::contains_url_password(literal)) return "its value is a URL with a password in it";
  // A file path is where a secret lives, not the secret (SSH_KEY_PATH=/home/me/.ssh/id_ed25519).
  const bool is_path = (literal.rfind("/", 0) == 0 || literal.rfind("~/", 0) == 0 || literal.rfind("./", 0) == 0) &&
                       literal.find_first_of(" \t") == std::string::npos;
  if (name_suggests_secret(key) && !is_path)
    return "the name " + key + " suggests a secret but the value is written out";
  return std::nullopt;
}

}  // namespace cc::config
