#include "config/config_io.hpp"

#include <nlohmann/json.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <system_error>

#include "config/config_paths.hpp"
#include "config/limits.hpp"
#include "config/text_shapes.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::config {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kNamePatternText =
    "a name matching ^[a-z0-9][a-z0-9_.-]{0,62}$ (lowercase letters, digits, '_', '.', '-'; "
    "at most 63 characters, starting with a letter or digit)";
constexpr const char* kDomainText = "a domain such as \"example.com\", \"*.example.com\" or \"example.com:443\"";
constexpr double kMaxCpus = 1024;
constexpr std::uint64_t kMinPids = 32;
constexpr std::uint64_t kMaxPids = 4194304;  // the kernel's pid_max limit

// A string for a message: long ones are cut, so a hostile value cannot flood the terminal.
std::string quoted(const std::string& text) {
  constexpr std::size_t kShown = 80;
  if (text.size() <= kShown) return json(text).dump();
  std::string head = text.substr(0, kShown);
  while (!head.empty() && (static_cast<unsigned char>(head.back()) & 0xC0) == 0x80) head.pop_back();  // whole UTF-8
  if (!head.empty() && static_cast<unsigned char>(head.back()) >= 0xC0) head.pop_back();
  return "a string of " + std::to_string(text.size()) + " bytes starting " + json(head).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string describe(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case json::value_t::string: return quoted(value.get<std::string>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "the number " + value.dump();
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    default: return "a value of an unsupported type";
  }
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// Turns a parsed document into a Config, failing on the first thing that is not allowed.
class ConfigReader {
 public:
  explicit ConfigReader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& found, const std::string& allowed) const {
    throw usage_error(source_ + ": " + path + ": found " + found + "; allowed: " + allowed);
  }

  // Every key of `object` must be in `allowed`.
  void check_keys(const json& object, const std::string& path, std::initializer_list<const char*> allowed) const {
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (const char* name : allowed) known = known || key == name;
      if (known) continue;
      std::string list;
      for (const char* name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
      fail(child_path(path, key), "an unknown key", "the keys " + list);
    }
  }

  const json& object_at(const json& parent, const std::string& key, const std::string& path) const {
    const json& value = parent.at(key);
    if (!value.is_object()) fail(child_path(path, key), describe(value), "an object");
    return value;
  }

  std::string string_at(const json& parent, const std::string& key, const std::string& path,
                        const std::string& allowed = "a string", std::size_t max_bytes = kMaxStringBytes) const {
    const json& value = parent.at(key);
    if (!value.is_string()) fail(child_path(path, key), describe(value), allowed);
    check_length(child_path(path, key), value, max_bytes);
    return value.get<std::string>();
  }

  // Checked before any other test of the value, so nothing looks at an oversized string.
  void check_length(const std::string& path, const json& value, std::size_t max_bytes) const {
    const std::size_t size = value.get_ref<const std::string&>().size();
    if (size > max_bytes)
      fail(path, "a string of " + std::to_string(size) + " bytes",
           "at most " + std::to_string(max_bytes) + " bytes; shorten it");
  }

  bool bool_at(const json& parent, const std::string& key, const std::string& path) const {
    const json& value = parent.at(key);
    if (!value.is_boolean()) fail(child_path(path, key), describe(value), "true | false");
    return value.get<bool>();
  }

  template <typename E>
  E enum_at(const json& parent, const std::string& key, const std::string& path,
            std::optional<E> (*parse)(const std::string&), const std::string& allowed) const {
    const json& value = parent.at(key);
    if (!value.is_string()) fail(child_path(path, key), describe(value), allowed);
    check_length(child_path(path, key), value, kMaxStringBytes);
    auto parsed = parse(value.get<std::string>());
    if (!parsed) fail(child_path(path, key), describe(value), allowed);
    return *parsed;
  }

  Config read(const json& root) const {
    if (!root.is_object()) fail("(top level)", describe(root), "an object with the keys of schema_version 1");
    for (const char* required : {"schema_version", "name", "mode"})
      if (!root.contains(required)) fail(required, "nothing (the key is missing)", required_text(required));
    check_keys(root, "", {"schema_version", "name", "mode", "engine", "image", "network", "storage", "credentials",
                          "skills", "mcp", "git", "env", "env_file", "resources", "agent"});

    read_schema_version(root.at("schema_version"));
    const std::string name = string_at(root, "name", "", kNamePatternText);
    if (!valid_name(name)) fail("name", describe(root.at("name")), kNamePatternText);
    const Mode mode = enum_at<Mode>(root, "mode", "", parse_mode, allowed_values_mode());

    // Keys left out take the mode's preset value, so a short file means what its mode says.
    Config config = preset(mode, name);
    if (root.contains("engine"))
      config.engine = enum_at<EngineKind>(root, "engine", "", parse_engine, allowed_values_engine());
    if (root.contains("image")) read_image(object_at(root, "image", ""), config.image);
    if (root.contains("network")) read_network(object_at(root, "network", ""), config.network);
    if (root.contains("storage")) read_storage(object_at(root, "storage", ""), config.storage);
    if (root.contains("credentials")) read_credentials(object_at(root, "credentials", ""), config.credentials);
    if (root.contains("skills")) read_skills(object_at(root, "skills", ""), config.skills);
    if (root.contains("mcp")) read_mcp(object_at(root, "mcp", ""), config.mcp);
    if (root.contains("git")) read_git(object_at(root, "git", ""), config.git);
    if (root.contains("env")) read_env(object_at(root, "env", ""), config);
    if (root.contains("env_file")) {
      const std::string allowed = "a path to a KEY=VALUE file, relative to the project, or \"\"";
      config.env_file = string_at(root, "env_file", "", allowed);
      if (is_kernel_path(config.env_file))
        fail("env_file", describe(root.at("env_file")), allowed + " (never in /proc, /sys or /dev)");
    }
    if (root.contains("resources")) read_resources(object_at(root, "resources", ""), config.resources);
    if (root.contains("agent")) read_agent(object_at(root, "agent", ""), config.agent);
    return config;
  }

 private:
  static std::string required_text(const std::string& key) {
    if (key == "schema_version") return "1";
    if (key == "name") return kNamePatternText;
    return allowed_values_mode();
  }

  void read_schema_version(const json& value) const {
    if (!value.is_number_integer()) fail("schema_version", describe(value), "1");
    const auto version = value.get<std::int64_t>();
    if (version > kSchemaVersion)
      fail("schema_version", describe(value),
           "1 (this file was written by a newer claude-container; upgrade claude-container to read it)");
    if (version != kSchemaVersion) fail("schema_version", describe(value), "1");
  }

  void read_image(const json& object, Image& image) const {
    check_keys(object, "image", {"base", "containerfile"});
    if (object.contains("base")) {
      image.base = string_at(object, "base", "image", allowed_values_image_base());
      if (!valid_image_base(image.base)) fail("image.base", describe(object.at("base")), allowed_values_image_base());
    }
    if (object.contains("containerfile")) {
      const std::string allowed = "a path inside the project, relative to it, e.g. \".claude-container/Containerfile\"";
      image.containerfile = string_at(object, "containerfile", "image", allowed);
      if (!is_relative_inside(image.containerfile)) fail("image.containerfile", describe(object.at("containerfile")), allowed);
    }
  }

  static bool is_relative_inside(const std::string& text) {
    if (text.empty()) return false;
    const std::filesystem::path path(text);
    if (path.is_absolute()) return false;
    for (const auto& part : path)
      if (part == "..") return false;
    return true;
  }

  std::vector<std::string> domain_list(const json& object, const std::string& key, const std::string& path) const {
    const json& value = object.at(key);
    const std::string list_path = child_path(path, key);
    if (!value.is_array()) fail(list_path, describe(value), std::string("an array of strings, each ") + kDomainText);
    if (value.size() > kMaxDomainEntries)
      fail(list_path, "an array of " + std::to_string(value.size()) + " entries",
           "at most " + std::to_string(kMaxDomainEntries) + " entries");
    // A light check only: the network layer parses each rule fully when it loads the policy.
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const json& entry = value[i];
      if (entry.is_string()) check_length(index_path(list_path, i), entry, kMaxDomainBytes);
      if (!entry.is_string() || !shapes::is_domain_rule(entry.get<std::string>()))
        fail(index_path(list_path, i), describe(entry), kDomainText);
      out.push_back(entry.get<std::string>());
    }
    return out;
  }

  void read_network(const json& object, Network& network) const {
    check_keys(object, "network", {"policy", "allow", "deny", "host_network"});
    if (object.contains("policy"))
      network.policy = enum_at<NetworkPolicy>(object, "policy", "network", parse_network_policy,
                                              allowed_values_network_policy());
    if (object.contains("allow")) network.allow = domain_list(object, "allow", "network");
    if (object.contains("deny")) network.deny = domain_list(object, "deny", "network");
    if (object.contains("host_network")) {
      network.host_network = bool_at(object, "host_network", "network");
      if (network.host_network && network.policy != NetworkPolicy::full)
        fail("network.host_network", "true", "true only together with \"policy\": \"full\" (the host network is the full network)");
    }
  }

  void read_storage(const json& object, Storage& storage) const {
    check_keys(object, "storage", {"type"});
    if (object.contains("type"))
      storage.type = enum_at<StorageType>(object, "type", "storage", parse_storage, allowed_values_storage());
  }

  void read_credentials(const json& object, Credentials& credentials) const {
    check_keys(object, "credentials", {"api", "upstream", "ca_file"});
    if (object.contains("api"))
      credentials.api = enum_at<ApiCredentials>(object, "api", "credentials", parse_api_credentials,
                                                allowed_values_api_credentials());
    if (object.contains("upstream")) {
      const std::string allowed = "an https:// URL, e.g. \"https://api.anthropic.com\"";
      credentials.upstream = string_at(object, "upstream", "credentials", allowed);
      if (!shapes::is_https_url(credentials.upstream))
        fail("credentials.upstream", describe(object.at("upstream")), allowed);
    }
    if (object.contains("ca_file")) {
      const std::string allowed = "a path to a PEM file, or \"\" for none";
      credentials.ca_file = string_at(object, "ca_file", "credentials", allowed);
      if (is_kernel_path(credentials.ca_file))
        fail("credentials.ca_file", describe(object.at("ca_file")), allowed + " (never in /proc, /sys or /dev)");
    }
  }

  void read_skills(const json& object, Skills& skills) const {
    check_keys(object, "skills", {"sync"});
    if (object.contains("sync")) skills.sync = bool_at(object, "sync", "skills");
  }

  void read_mcp(const json& object, Mcp& mcp) const {
    check_keys(object, "mcp", {"placement", "servers"});
    if (object.contains("placement"))
      mcp.placement = enum_at<McpPlacement>(object, "placement", "mcp", parse_mcp_placement,
                                            allowed_values_mcp_placement());
    if (!object.contains("servers")) return;
    const json& servers = object.at("servers");
    const std::string allowed = "an array of distinct names from: " + allowed_values_mcp_server();
    if (!servers.is_array()) fail("mcp.servers", describe(servers), allowed);
    mcp.servers.clear();
    for (std::size_t i = 0; i < servers.size(); ++i) {
      const json& entry = servers[i];
      auto server = entry.is_string() ? parse_mcp_server(entry.get<std::string>()) : std::nullopt;
      if (!server) fail(index_path("mcp.servers", i), describe(entry), allowed_values_mcp_server());
      if (std::find(mcp.servers.begin(), mcp.servers.end(), *server) != mcp.servers.end())
        fail(index_path("mcp.servers", i), describe(entry) + " a second time", allowed);
      mcp.servers.push_back(*server);
    }
  }

  void read_git(const json& object, Git& git) const {
    check_keys(object, "git", {"name", "email", "credentials", "host"});
    if (object.contains("name")) {
      git.name = string_at(object, "name", "git", "a string without line breaks");
      if (git.name.find_first_of("\r\n") != std::string::npos)
        fail("git.name", describe(object.at("name")), "a string without line breaks");
    }
    if (object.contains("email")) {
      const std::string allowed = "an e-mail address such as \"ada@example.com\", or \"\"";
      git.email = string_at(object, "email", "git", allowed);
      if (!git.email.empty() && !shapes::is_email(git.email))
        fail("git.email", describe(object.at("email")), allowed);
    }
    if (object.contains("credentials"))
      git.credentials = enum_at<GitCredentials>(object, "credentials", "git", parse_git_credentials,
                                                allowed_values_git_credentials());
    if (object.contains("host")) {
      const std::string allowed = "a host name with an optional :port, such as \"github.com\" or \"git.example.com:8443\"";
      git.host = string_at(object, "host", "git", allowed);
      if (git.host.empty() || git.host.rfind("*.", 0) == 0 || !shapes::is_domain_rule(git.host))
        fail("git.host", describe(object.at("host")), allowed);
    }
  }

  void read_env(const json& object, Config& config) const {
    if (object.size() > kMaxEnvEntries)
      fail("env", "an object of " + std::to_string(object.size()) + " entries",
           "at most " + std::to_string(kMaxEnvEntries) + " entries");
    for (const auto& [key, value] : object.items()) {
      const std::string path = child_path("env", key);
      if (!valid_env_name(key))
        fail(path, "a variable name that is not valid", "names made of letters, digits and '_', not starting with a digit");
      if (!value.is_string()) fail(path, describe(value), "a string, which may contain ${NAME} references");
      check_length(path, value, kMaxEnvValueBytes);
      const std::string text = value.get<std::string>();
      try {
        env_references(text);
      } catch (const Error& e) {
        fail(path, describe(value) + " (" + e.what() + ")", "a string whose ${NAME} references are well formed");
      }
      if (auto reason = literal_secret_reason(key, text))
        fail(path, "a written-out secret (" + *reason + ")",
             "a ${NAME} reference to a host environment variable, e.g. \"${" + key +
                 "}\", so that the secret never lands in the project");
      config.env[key] = text;
    }
    // With gateway or separate credentials the key must not reach the container through env:
    // not under its own name, and not under another name by reference ("X": "${ANTHROPIC_API_KEY}").
    if (config.credentials.api != ApiCredentials::shared) {
      const std::string allowed = "other variables; credentials.api is \"" + to_string(config.credentials.api) +
                                  "\", which decides how the API key reaches the container (\"shared\" passes it in)";
      for (const char* guarded : {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"})
        if (config.env.count(guarded))
          fail(child_path("env", guarded), "a variable that credentials.api controls", allowed);
      for (const auto& [key, value] : config.env)
        for (const auto& name : env_references(value))
          if (is_api_credential_variable(name))
            fail(child_path("env", key), "a reference to the host's " + name + ", which credentials.api controls",
                 allowed);
    }
  }

  void read_resources(const json& object, Resources& resources) const {
    check_keys(object, "resources", {"cpus", "memory", "pids"});
    if (object.contains("cpus")) {
      const json& cpus = object.at("cpus");
      const std::string allowed = "a number of CPUs greater than 0 and at most 1024, e.g. 2 or 0.5";
      if (!cpus.is_number()) fail("resources.cpus", describe(cpus), allowed);
      const double value = cpus.get<double>();
      if (!(value > 0) || value > kMaxCpus) fail("resources.cpus", describe(cpus), allowed);
      resources.cpus = value;
    }
    if (object.contains("memory")) {
      const json& memory = object.at("memory");
      std::string text;
      if (memory.is_string()) text = memory.get<std::string>();
      else if (memory.is_number_unsigned() || (memory.is_number_integer() && memory.get<std::int64_t>() > 0))
        text = memory.dump();
      else fail("resources.memory", describe(memory), allowed_memory_spellings());
      auto bytes = parse_memory(text);
      if (!bytes || *bytes < kMinMemoryBytes) fail("resources.memory", describe(memory), allowed_memory_spellings());
      resources.memory = *bytes;
      resources.memory_text = text;
    }
    if (object.contains("pids")) {
      const json& pids = object.at("pids");
      const std::string allowed = "a whole number from 32 to 4194304";
      if (!pids.is_number_integer()) fail("resources.pids", describe(pids), allowed);
      const auto value = pids.get<std::int64_t>();
      if (value < static_cast<std::int64_t>(kMinPids) || value > static_cast<std::int64_t>(kMaxPids))
        fail("resources.pids", describe(pids), allowed);
      resources.pids = static_cast<std::uint64_t>(value);
    }
  }

  void read_agent(const json& object, Agent& agent) const {
    check_keys(object, "agent", {"command", "skip_permissions"});
    if (object.contains("command")) {
      const std::string allowed = "a non-empty command, e.g. \"claude\"";
      agent.command = string_at(object, "command", "agent", allowed);
      if (agent.command.find_first_not_of(" \t") == std::string::npos)
        fail("agent.command", describe(object.at("command")), allowed);
    }
    if (object.contains("skip_permissions")) agent.skip_permissions = bool_at(object, "skip_permissions", "agent");
  }

  std::string source_;
};

// nlohmann keeps the last of two equal keys silently; a config with both is ambiguous, so
// the parser callback records the first duplicate and its key path. It also stops the parse
// at the first key, string or nesting level over its limit (limits.hpp), naming where.
class DuplicateKeyFinder {
 public:
  explicit DuplicateKeyFinder(std::string source) : source_(std::move(source)) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (depth > static_cast<int>(kMaxJsonDepth))
      refuse(path(), "values nested " + std::to_string(depth) + " levels deep",
             "at most " + std::to_string(kMaxJsonDepth) + " levels");
    switch (event) {
      case json::parse_event_t::object_start: frames_.push_back({true, {}, {}}); break;
      case json::parse_event_t::array_start: frames_.push_back({false, {}, {}}); break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key: {
        auto& frame = frames_.back();
        const auto& key = parsed.get_ref<const std::string&>();
        if (key.size() > kMaxKeyBytes)
          refuse(child_path(path(), quoted(key)), "a key of " + std::to_string(key.size()) + " bytes",
                 "keys of at most " + std::to_string(kMaxKeyBytes) + " bytes");
        if (frame.keys.size() >= kMaxKeysPerObject)
          refuse(path(), "an object with more than " + std::to_string(kMaxKeysPerObject) + " keys",
                 "at most " + std::to_string(kMaxKeysPerObject) + " keys");
        frame.current_key = key;
        if (!frame.keys.insert(frame.current_key).second && !duplicate_) duplicate_ = path();
        break;
      }
      case json::parse_event_t::value:
        // The schema's largest string is an env value; anything longer is refused here, before
        // any check that would have to look at it.
        if (parsed.is_string() && parsed.get_ref<const std::string&>().size() > kMaxEnvValueBytes)
          refuse(path(), "a string of " + std::to_string(parsed.get_ref<const std::string&>().size()) + " bytes",
                 "at most " + std::to_string(kMaxEnvValueBytes) + " bytes; shorten it");
        break;
    }
    return true;
  }
  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  static constexpr std::size_t kMaxKeysPerObject = kMaxEnvEntries + 1;  // env is the largest object

  [[noreturn]] void refuse(const std::string& where, const std::string& found, const std::string& allowed) const {
    throw usage_error(source_ + ": " + (where.empty() ? "(top level)" : where) + ": found " + found +
                      "; allowed: " + allowed);
  }
  struct Frame {
    bool is_object;
    std::set<std::string> keys;
    std::string current_key;
  };
  std::string path() const {
    std::string out;
    for (const auto& frame : frames_)
      if (frame.is_object && !frame.current_key.empty()) out = child_path(out, frame.current_key);
    return out;
  }
  std::string source_;
  std::vector<Frame> frames_;
  std::optional<std::string> duplicate_;
};

// "line 3, column 7" for the 1-based byte offset nlohmann reports.
std::string position_text(const std::string& text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  const std::size_t end = std::min(byte == 0 ? 0 : byte - 1, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// nlohmann's what() starts with "[json.exception.parse_error.101] parse error at line 1, column 2: ".
std::string parse_error_reason(const std::string& what) {
  const std::size_t marker = what.find("parse error");
  if (what.rfind("[json.exception.", 0) != 0 || marker == std::string::npos) return what;
  const std::size_t colon = what.find(": ", marker);
  std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
  if (reason.size() > 200) reason = reason.substr(0, 200) + "...";  // it quotes the text it read
  return reason;
}

ordered_json to_json(const Config& c) {
  ordered_json j;
  j["schema_version"] = c.schema_version;
  j["name"] = c.name;
  j["mode"] = to_string(c.mode);
  j["engine"] = to_string(c.engine);
  j["image"] = {{"base", c.image.base}, {"containerfile", c.image.containerfile}};
  j["network"] = {{"policy", to_string(c.network.policy)}, {"allow", c.network.allow}, {"deny", c.network.deny}};
  if (c.network.host_network) j["network"]["host_network"] = true;  // written only when asked for
  j["storage"] = {{"type", to_string(c.storage.type)}};
  j["credentials"] = {{"api", to_string(c.credentials.api)},
                      {"upstream", c.credentials.upstream},
                      {"ca_file", c.credentials.ca_file}};
  j["skills"] = {{"sync", c.skills.sync}};
  ordered_json servers = ordered_json::array();
  for (auto server : c.mcp.servers) servers.push_back(to_string(server));
  j["mcp"] = {{"placement", to_string(c.mcp.placement)}, {"servers", servers}};
  j["git"] = {{"name", c.git.name}, {"email", c.git.email}, {"credentials", to_string(c.git.credentials)},
              {"host", c.git.host}};
  ordered_json env = ordered_json::object();
  for (const auto& [key, value] : c.env) env[key] = value;  // std::map: sorted, stable
  j["env"] = env;
  j["env_file"] = c.env_file;

  ordered_json resources;
  // Whole CPUs are written as integers ("2", not "2.0").
  if (c.resources.cpus == static_cast<double>(static_cast<std::int64_t>(c.resources.cpus)))
    resources["cpus"] = static_cast<std::int64_t>(c.resources.cpus);
  else
    resources["cpus"] = c.resources.cpus;
  // Keep the user's spelling when it still says the same size; a plain number stays a number.
  const auto spelled = parse_memory(c.resources.memory_text);
  const std::string memory_text =
      spelled && *spelled == c.resources.memory ? c.resources.memory_text : format_memory(c.resources.memory);
  if (memory_text.find_first_not_of("0123456789") == std::string::npos)
    resources["memory"] = c.resources.memory;
  else
    resources["memory"] = memory_text;
  resources["pids"] = c.resources.pids;
  j["resources"] = resources;
  j["agent"] = {{"command", c.agent.command}, {"skip_permissions", c.agent.skip_permissions}};
  return j;
}

}  // namespace

Config parse_config(const std::string& json_text, const std::string& source_name) {
  if (json_text.size() > kMaxConfigBytes)
    throw usage_error(source_name + ": the file is " + std::to_string(json_text.size()) + " bytes; allowed: at most " +
                      std::to_string(kMaxConfigBytes) + " bytes. Shorten it or run `claude-container init --force`");
  DuplicateKeyFinder duplicates(source_name);
  json root;
  try {
    root = json::parse(json_text, std::ref(duplicates));
  } catch (const json::parse_error& e) {
    throw usage_error(source_name + ": " + position_text(json_text, e.byte) +
                      ": malformed JSON: " + parse_error_reason(e.what()) + "; fix the file or run `claude-container init` again");
  } catch (const json::exception& e) {
    // Found by the fuzzer: a number too large for any type ("8888...e8888") is out_of_range,
    // not parse_error; it is bad input like any other.
    std::string reason = e.what();
    if (const auto end = reason.find("] "); reason.rfind("[json.exception.", 0) == 0 && end != std::string::npos)
      reason = reason.substr(end + 2);
    if (reason.size() > 200) reason = reason.substr(0, 200) + "...";
    throw usage_error(source_name + ": malformed JSON: " + reason + "; fix the file or run `claude-container init` again");
  }
  if (duplicates.duplicate())
    throw usage_error(source_name + ": " + *duplicates.duplicate() +
                      ": found the key twice; allowed: each key once");
  return ConfigReader(source_name).read(root);
}

std::string serialize_config(const Config& config) { return to_json(config).dump(2) + "\n"; }

LoadedConfig read_config(const std::filesystem::path& project_dir) {
  const auto path = project_dir / kConfigFile;
  std::optional<std::string> text;
  try {
    // Beneath the project and never through a link: a repository cannot point config.json at
    // a host file, and a read is bounded whatever the file's size.
    UniqueFd root = beneath::open_root(project_dir);
    text = beneath::read_file(root.get(), kConfigFile, kMaxConfigBytes);
  } catch (const Error& e) {
    throw usage_error(path.string() + ": cannot be read: " + e.what() +
                      ". Fix it, or run `claude-container init --force` to write a new one");
  }
  if (!text)
    throw not_set_up_error("no claude-container configuration in " + project_dir.string() + ": " + path.string() +
                           " does not exist; run `claude-container init` there first");
  LoadedConfig loaded;
  loaded.config = parse_config(*text, path.string());
  loaded.text = std::move(*text);
  return loaded;
}

Config load_config(const std::filesystem::path& project_dir) { return read_config(project_dir).config; }

void save_config(const std::filesystem::path& project_dir, const Config& config) {
  UniqueFd root = beneath::open_root(project_dir);
  beneath::write_file(root.get(), kConfigFile, serialize_config(config), 0644);
}

namespace {

std::string owner_text(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  if (const passwd* pw = ::getpwuid(uid); pw != nullptr && pw->pw_name != nullptr)
    text = std::string(pw->pw_name) + " (" + text + ")";
  return text;
}

[[noreturn]] void refuse_foreign_config(const std::filesystem::path& config, const std::filesystem::path& owned,
                                        uid_t owner) {
  throw usage_error("refusing the configuration " + config.string() + ": " + owned.string() + " belongs to " +
                    owner_text(owner) + ", not to you (" + owner_text(::geteuid()) +
                    "), so someone else may have planted it. Run claude-container in a project directory of your "
                    "own, or pass --project DIR");
}

}  // namespace

std::optional<std::filesystem::path> find_project_root(const std::filesystem::path& start) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::canonical(start, ec);
  if (ec) return std::nullopt;
  const uid_t me = ::geteuid();
  while (true) {
    struct stat dir_st {};
    if (::lstat(dir.c_str(), &dir_st) != 0) return std::nullopt;
    const auto config_dir = dir / kConfigDir;
    const auto config = dir / kConfigFile;
    struct stat config_dir_st {}, config_st {};
    const bool has_dir = ::lstat(config_dir.c_str(), &config_dir_st) == 0;
    // A link is found (and refused when read); a directory named config.json is no config.
    const bool has_config = has_dir && ::lstat(config.c_str(), &config_st) == 0 &&
                            (S_ISREG(config_st.st_mode) || S_ISLNK(config_st.st_mode));
    // The walk goes only through directories this user owns: a directory someone else owns
    // (/tmp, /home, a shared folder) ends it, and a config found there is refused.
    if (dir_st.st_uid != me) {
      if (has_config) refuse_foreign_config(config, dir, dir_st.st_uid);
      return std::nullopt;
    }
    if (has_config) {
      if (config_dir_st.st_uid != me) refuse_foreign_config(config, config_dir, config_dir_st.st_uid);
      if (config_st.st_uid != me) refuse_foreign_config(config, config, config_st.st_uid);
      return dir;
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

}  // namespace cc::config
