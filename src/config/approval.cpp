#include "config/approval.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>

#include "config/config_io.hpp"
#include "config/config_paths.hpp"
#include "config/limits.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::config {
namespace fs = std::filesystem;

namespace {

constexpr int kApprovalSchema = 1;
// The approved text is a config (at most kMaxConfigBytes), JSON-escaped in the record.
constexpr std::size_t kMaxRecordBytes = 8 * kMaxConfigBytes;

fs::path home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') return home;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  throw Error("cannot find your home directory to keep approvals in: HOME is not set and uid " +
              std::to_string(::geteuid()) + " has no entry in the password database; set HOME.");
}

fs::path approvals_dir() { return user_state_root() / "approvals"; }

// One file per project, named by the hash of its canonical path (paths may hold anything).
std::string record_name(const fs::path& project_dir) { return sha256_hex(project_dir.string()) + ".json"; }

std::string now_utc() {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

// mkdir -p with 0700 for what we create; the state root may be shared with the engine.
void make_private_directories(const fs::path& dir) {
  fs::path done;
  for (const auto& part : dir) {
    done /= part;
    if (::mkdir(done.c_str(), 0700) != 0 && errno != EEXIST)
      throw Error(errno_message("cannot create " + done.string() + " to keep the approval in", errno));
  }
}

}  // namespace

fs::path user_state_root() {
  // sudo -E and su leave a user's XDG_STATE_HOME in root's environment: root's approvals
  // must not live where that user could write one.
  if (::geteuid() == 0) return "/var/lib/claude-container";
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && state[0] == '/')
    return fs::path(state) / "claude-container";
  return home_directory() / ".local" / "state" / "claude-container";
}

std::string ca_file_digest(const fs::path& project_dir, const std::string& config_text) {
  std::string ca_file;
  try {
    ca_file = parse_config(config_text, "the config").credentials.ca_file;
  } catch (const Error&) {
    return "";  // a config that does not parse is never started
  }
  if (ca_file.empty()) return "";
  try {
    auto pem = read_config_path(project_dir, "credentials.ca_file", ca_file, kMaxCaFileBytes);
    return pem ? sha256_hex(*pem) : "missing";
  } catch (const Error&) {
    return "unreadable";
  }
}

bool builds_image(const Config& config) {
  switch (config.engine) {
    case EngineKind::native: return false;
    case EngineKind::automatic:  // apple on macOS; podman or docker where native cannot run on Linux
    case EngineKind::apple:
    case EngineKind::docker:
    case EngineKind::podman: return true;
  }
  return true;
}

std::optional<std::string> read_containerfile(const fs::path& project_dir, const Config& config) {
  return read_config_path(project_dir, "image.containerfile", config.image.containerfile, kMaxContainerfileBytes);
}

std::string containerfile_digest(const fs::path& project_dir, const std::string& config_text) {
  Config config;
  try {
    config = parse_config(config_text, "the config");
  } catch (const Error&) {
    return "";  // a config that does not parse is never started
  }
  if (!builds_image(config)) return "";
  try {
    auto content = read_containerfile(project_dir, config);
    return content ? sha256_hex(*content) : "missing";
  } catch (const Error&) {
    return "unreadable";
  }
}

std::optional<Approval> load_approval(const fs::path& project_dir) {
  std::optional<std::string> text;
  try {
    UniqueFd dir = beneath::open_root(approvals_dir());
    // A directory someone else owns or may write into could hold a planted approval.
    struct stat st {};
    if (::fstat(dir.get(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
      return std::nullopt;
    text = beneath::read_file(dir.get(), record_name(project_dir), kMaxRecordBytes);
  } catch (const Error&) {
    return std::nullopt;  // no directory yet, or a record we will not read: nothing is approved
  }
  if (!text) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(*text);
    Approval a;
    if (j.at("schema_version").get<int>() != kApprovalSchema) return std::nullopt;
    a.project = j.at("project").get<std::string>();
    a.config_sha256 = j.at("config_sha256").get<std::string>();
    a.config_text = j.at("config").get<std::string>();
    a.approved_at = j.at("approved_at").get<std::string>();
    // Records from before the CA file was covered have none: a CA file then needs approval again.
    a.ca_file_sha256 = j.value("ca_file_sha256", std::string());
    // Likewise the Containerfile: "" never matches the digest of an image-building config.
    a.containerfile_sha256 = j.value("containerfile_sha256", std::string());
    // A record for another path (a hash collision, a copied file) or a text that does not
    // match its hash approves nothing.
    if (a.project != project_dir.string() || sha256_hex(a.config_text) != a.config_sha256) return std::nullopt;
    return a;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void record_approval(const fs::path& project_dir, const std::string& config_text) {
  nlohmann::ordered_json j;
  j["schema_version"] = kApprovalSchema;
  j["project"] = project_dir.string();
  j["config_sha256"] = sha256_hex(config_text);
  j["approved_at"] = now_utc();
  j["ca_file_sha256"] = ca_file_digest(project_dir, config_text);
  j["containerfile_sha256"] = containerfile_digest(project_dir, config_text);
  j["config"] = config_text;
  make_private_directories(approvals_dir());
  struct stat st {};
  if (::stat(approvals_dir().c_str(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0)
    throw Error("refusing to keep approvals in " + approvals_dir().string() +
                ": it is not owned by you or others may write into it; run `chmod 700 " +
                approvals_dir().string() + "` after checking who owns it.");
  write_file_atomic(approvals_dir() / record_name(project_dir),
                    j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", 0600);
}

bool is_approved(const fs::path& project_dir, const std::string& config_text) {
  const auto approval = load_approval(project_dir);
  return approval && approval->config_sha256 == sha256_hex(config_text) &&
         approval->ca_file_sha256 == ca_file_digest(project_dir, config_text) &&
         approval->containerfile_sha256 == containerfile_digest(project_dir, config_text);
}

}  // namespace cc::config
