#include "integrations/agent_onboarding.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "integrations/agent_environment.hpp"
#include "integrations/api_credential.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::integrations {

namespace {

using nlohmann::json;

constexpr const char* kConfigDir = ".claude";  // kAgentConfigDir below /root
constexpr const char* kWorkspace = "/workspace";

// Moves `name` in `dir_fd` aside (the entry itself, never what a link points to), keeping it
// for the user to look at.
std::string move_aside(int dir_fd, const std::string& name, const std::string& shown, const std::string& why) {
  const std::string base = name + ".claude-container-moved-" + std::to_string(std::time(nullptr));
  std::string aside = base;
  int rc = -1;
  for (int attempt = 1; attempt < 100; ++attempt) {
    rc = ::renameat2(dir_fd, name.c_str(), dir_fd, aside.c_str(), RENAME_NOREPLACE);  // never over an earlier one
    if (rc == 0 || errno != EEXIST) break;
    aside = base + "-" + std::to_string(attempt);
  }
  if (rc != 0) throw Error(errno_message("cannot move the container's " + shown + " aside (" + why + ")", errno));
  return "the container's " + shown + " " + why + "; moved it to " + aside + " and wrote a fresh one";
}

// Reads a JSON object from `name` below `dir_fd`. nullopt: leave the file as it is (too big).
// A file that is not a regular file or not a JSON object is moved aside and `{}` returned.
std::optional<json> read_object(int dir_fd, const std::string& name, const std::string& shown,
                                std::vector<std::string>& notes) {
  auto st = beneath::stat_at(dir_fd, name);
  if (!st) return json::object();
  if (!S_ISREG(st->st_mode)) {
    notes.push_back(move_aside(dir_fd, name, shown, "was not a regular file"));
    return json::object();
  }
  if (static_cast<std::size_t>(st->st_size) > kMaxAgentStateFile) {
    notes.push_back("the container's " + shown + " is larger than " + std::to_string(kMaxAgentStateFile >> 20) +
                    " MiB, so it was left as it is; Claude Code may show its first-run questions");
    return std::nullopt;
  }
  std::optional<std::string> text;
  try {
    text = beneath::read_file(dir_fd, name, kMaxAgentStateFile);
  } catch (const Error& error) {
    notes.push_back("the container's " + shown + " could not be read, so it was left as it is: " + error.what());
    return std::nullopt;
  }
  if (!text) return json::object();
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) {
    notes.push_back(move_aside(dir_fd, name, shown, "was not a JSON object"));
    return json::object();
  }
  return value;
}

// Temp file + rename in the same directory, given to the container's user before it appears.
void write_owned(int dir_fd, const std::string& name, const std::string& content, mode_t mode, uid_t uid, gid_t gid,
                 const std::string& shown) {
  std::string temp = "." + name + ".claude-container-" + std::to_string(::getpid()) + ".tmp";
  ::unlinkat(dir_fd, temp.c_str(), 0);
  UniqueFd fd(::openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) throw_errno("cannot write the container's " + shown);
  bool ok = write_all(fd.get(), content) && ::fchown(fd.get(), uid, gid) == 0 && ::fchmod(fd.get(), mode) == 0 &&
            ::fsync(fd.get()) == 0;
  int err = errno;
  fd.reset();
  if (!ok || ::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0) {
    if (ok) err = errno;
    ::unlinkat(dir_fd, temp.c_str(), 0);
    throw Error(errno_message("cannot write the container's " + shown, err));
  }
}

json& object_member(json& parent, const char* key) {
  if (!parent.contains(key) || !parent[key].is_object()) parent[key] = json::object();
  return parent[key];
}

void patch_claude_json(json& state, const config::Config& config, const std::string& shared_api_key) {
  state["hasCompletedOnboarding"] = true;
  json& workspace = object_member(object_member(state, "projects"), kWorkspace);
  workspace["hasTrustDialogAccepted"] = true;
  std::vector<std::string> keys;
  if (config.credentials.api == config::ApiCredentials::gateway) {
    for (auto kind : {net::CredentialKind::api_key, net::CredentialKind::oauth_token}) {
      keys.push_back(placeholder_credential(kind));
    }
  } else if (config.credentials.api == config::ApiCredentials::shared && shared_api_key.size() >= 20) {
    keys.push_back(shared_api_key);
  }
  if (keys.empty()) return;
  // Interactive Claude Code asks once whether to use an ANTHROPIC_API_KEY it finds, and
  // remembers the answer by the key's last 20 characters.
  json& responses = object_member(state, "customApiKeyResponses");
  if (!responses.contains("approved") || !responses["approved"].is_array()) responses["approved"] = json::array();
  if (!responses.contains("rejected") || !responses["rejected"].is_array()) responses["rejected"] = json::array();
  for (const auto& key : keys) {
    std::string tail = key.substr(key.size() - 20);
    json& approved = responses["approved"];
    if (std::find(approved.begin(), approved.end(), tail) == approved.end()) approved.push_back(tail);
    json& rejected = responses["rejected"];
    rejected.erase(std::remove(rejected.begin(), rejected.end(), tail), rejected.end());
  }
}

void update_file(int dir_fd, const std::string& name, mode_t mode, uid_t uid, gid_t gid,
                 const std::function<void(json&)>& patch, std::vector<std::string>& notes) {
  const std::string shown = std::string(kAgentConfigDir) + "/" + name;
  auto state = read_object(dir_fd, name, shown, notes);
  if (!state) return;
  json before = *state;
  patch(*state);
  if (*state == before && beneath::stat_at(dir_fd, name)) return;
  write_owned(dir_fd, name, state->dump(2) + "\n", mode, uid, gid, shown);
}

}  // namespace

std::vector<std::string> prepare_agent_home(const std::filesystem::path& home, const config::Config& config, uid_t uid,
                                            gid_t gid, const std::string& shared_api_key) {
  std::vector<std::string> notes;
  UniqueFd root = beneath::open_root(home);
  if (auto st = beneath::stat_at(root.get(), kConfigDir); st && !S_ISDIR(st->st_mode)) {
    notes.push_back(move_aside(root.get(), kConfigDir, kAgentConfigDir, "was not a directory"));
  }
  UniqueFd dir = beneath::make_directories(root.get(), kConfigDir, 0700);
  struct stat st {};
  if (::fstat(dir.get(), &st) != 0) throw_errno("cannot inspect the container's " + std::string(kAgentConfigDir));
  if ((st.st_uid != uid || st.st_gid != gid) && ::fchownat(dir.get(), "", uid, gid, AT_EMPTY_PATH) != 0) {
    throw_errno("cannot give the container's " + std::string(kAgentConfigDir) + " to the container's user");
  }
  update_file(dir.get(), ".claude.json", 0600, uid, gid, [&](json& state) { patch_claude_json(state, config, shared_api_key); }, notes);
  if (config.agent.skip_permissions && agent_is_claude_code(config)) {
    // The one-time bypass-mode warning, accepted by the config's agent.skip_permissions.
    update_file(dir.get(), "settings.json", 0644, uid, gid,
                [](json& settings) { settings["skipDangerousModePermissionPrompt"] = true; }, notes);
  }
  return notes;
}

}  // namespace cc::integrations
