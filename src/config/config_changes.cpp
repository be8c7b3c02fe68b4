#include "config/config_changes.hpp"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config_paths.hpp"
#include "util/error.hpp"

namespace cc::config {
namespace {

// The whole value, JSON-escaped: a value cut for display ("claude" + spaces + "; payload"
// shown as "claude...") would be approved unseen; the limits in limits.hpp bound its size.
std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string list_text(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string servers_text(const std::vector<McpServer>& servers) {
  std::vector<std::string> names;
  for (auto server : servers) names.push_back(to_string(server));
  return names.empty() ? "none" : list_text(names);
}

// Where a path setting points, said plainly: outside the project is what the user must notice.
std::string path_text(const std::filesystem::path& project_dir, const std::string& key, const std::string& value) {
  if (value.empty()) return "(none)";
  try {
    const ConfigPath where = locate_config_path(project_dir, key, value);
    if (!where.inside)
      return quoted(value) + (where.absolute == value ? std::string(" (outside the project)")
                                                      : " (outside the project: " + where.absolute.string() + ")");
    return quoted(value);
  } catch (const Error&) {
    return quoted(value) + " (refused: not a path that may be read)";
  }
}

// "env X takes the host's A, B" / "env X = "literal"" / both.
std::string env_text(const std::string& key, const std::string& value) {
  std::vector<std::string> references;
  try {
    references = env_references(value);
  } catch (const Error&) {
  }
  std::vector<std::string> described;
  for (const auto& name : references) {
    std::string text = name;
    if (is_api_credential_variable(name)) text += " (your Anthropic API key or token)";
    else if (name_suggests_secret(name)) text += " (a secret)";
    if (std::find(described.begin(), described.end(), text) == described.end()) described.push_back(text);
  }
  const bool only_references = !references.empty() && value.size() == [&] {
    std::size_t size = 0;
    for (const auto& name : references) size += name.size() + 3;
    return size;
  }();
  if (only_references) return "env " + key + " takes the host's " + list_text(described);
  if (references.empty()) return "env " + key + " = " + quoted(value);
  return "env " + key + " = " + quoted(value) + ", taking the host's " + list_text(described);
}

class Changes {
 public:
  explicit Changes(bool fresh) : fresh_(fresh) {}
  void setting(const std::string& label, const std::string& before, const std::string& after,
               const std::string& note = "") {
    if (before == after) return;
    lines_.push_back(fresh_ ? label + ": " + after + note : label + ": " + before + " → " + after + note);
  }
  void line(std::string text) { lines_.push_back(std::move(text)); }
  void list(const std::string& label, const std::vector<std::string>& before, const std::vector<std::string>& after) {
    std::vector<std::string> added, dropped;
    for (const auto& item : after)
      if (std::find(before.begin(), before.end(), item) == before.end()) added.push_back(item);
    for (const auto& item : before)
      if (std::find(after.begin(), after.end(), item) == after.end()) dropped.push_back(item);
    if (!added.empty()) lines_.push_back(label + " adds " + list_text(added));
    if (!dropped.empty()) lines_.push_back(label + " drops " + list_text(dropped));
  }
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  bool fresh_;
  std::vector<std::string> lines_;
};

}  // namespace

std::vector<std::string> describe_config_changes(const std::optional<Config>& before_config, const Config& after,
                                                 const std::filesystem::path& project_dir) {
  const bool fresh = !before_config;
  // Nothing approved yet: compare with the safe defaults, so every widening shows.
  const Config before = before_config.value_or(preset(Mode::playground, after.name));
  Changes changes(fresh);
  if (fresh) changes.line("name: " + after.name + ", mode: " + to_string(after.mode));
  changes.setting("name", before.name, after.name);
  if (!fresh) changes.setting("mode", to_string(before.mode), to_string(after.mode));
  changes.setting("engine", to_string(before.engine), to_string(after.engine));
  changes.setting("network", to_string(before.network.policy), to_string(after.network.policy),
                  after.network.policy == NetworkPolicy::full ? " (any host on the internet)" : "");
  changes.list("network.allow", before.network.allow, after.network.allow);
  changes.list("network.deny", before.network.deny, after.network.deny);
  changes.setting("storage", to_string(before.storage.type), to_string(after.storage.type),
                  after.storage.type == StorageType::bind ? " (the container writes your project files directly)" : "");
  changes.setting("credentials.api", to_string(before.credentials.api), to_string(after.credentials.api),
                  after.credentials.api == ApiCredentials::shared ? " (your API key goes into the container)" : "");
  // The host the real API key is sent to: quoted whole, so terminal escapes in it show as text.
  changes.setting("credentials.upstream", quoted(before.credentials.upstream), quoted(after.credentials.upstream),
                  after.credentials.upstream != before.credentials.upstream
                      ? " (your API key is sent to this host)"
                      : "");
  changes.setting("credentials.ca_file", path_text(project_dir, "credentials.ca_file", before.credentials.ca_file),
                  path_text(project_dir, "credentials.ca_file", after.credentials.ca_file),
                  after.credentials.ca_file.empty()
                      ? ""
                      : " (the certificate authorities in it are trusted to receive your API key)");
  changes.setting("skills.sync", before.skills.sync ? "on" : "off", after.skills.sync ? "on" : "off");
  changes.setting("mcp.placement", to_string(before.mcp.placement), to_string(after.mcp.placement),
                  after.mcp.placement != McpPlacement::container && !after.mcp.servers.empty()
                      ? " (MCP servers run on this machine, outside the sandbox)"
                      : "");
  changes.setting("mcp.servers", servers_text(before.mcp.servers), servers_text(after.mcp.servers));
  changes.setting("git.credentials", to_string(before.git.credentials), to_string(after.git.credentials));
  changes.setting("git.name", quoted(before.git.name), quoted(after.git.name));
  changes.setting("git.email", quoted(before.git.email), quoted(after.git.email));
  for (const auto& [key, value] : after.env) {
    auto old = before.env.find(key);
    if (old == before.env.end() || old->second != value) changes.line(env_text(key, value));
  }
  for (const auto& [key, value] : before.env)
    if (!after.env.count(key)) changes.line("env " + key + " removed");
  changes.setting("env_file", path_text(project_dir, "env_file", before.env_file),
                  path_text(project_dir, "env_file", after.env_file));
  changes.setting("image.base", before.image.base, after.image.base);
  changes.setting("image.containerfile", quoted(before.image.containerfile), quoted(after.image.containerfile));
  changes.setting("resources.cpus", number(before.resources.cpus), number(after.resources.cpus));
  changes.setting("resources.memory", format_memory(before.resources.memory), format_memory(after.resources.memory));
  changes.setting("resources.pids", std::to_string(before.resources.pids), std::to_string(after.resources.pids));
  changes.setting("agent.command", quoted(before.agent.command), quoted(after.agent.command));
  changes.setting("agent.skip_permissions", before.agent.skip_permissions ? "true" : "false",
                  after.agent.skip_permissions ? "true" : "false",
                  after.agent.skip_permissions ? " (the agent acts without asking)" : "");
  auto lines = changes.take();
  if (lines.empty()) lines.push_back("only formatting changed; every setting is as approved");
  return lines;
}

}  // namespace cc::config
