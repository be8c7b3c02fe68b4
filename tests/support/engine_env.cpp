#include "support/engine_env.hpp"

#include <dirent.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/native/paths.hpp"

namespace cc::test {

namespace fs = std::filesystem;

std::string to_string(EngineUser user) { return user == EngineUser::root ? "root" : "unprivileged"; }

bool unprivileged_user(uid_t* uid, gid_t* gid) {
  if (::geteuid() != 0) {
    *uid = ::geteuid();
    *gid = ::getegid();
    return true;
  }
  passwd* pw = ::getpwnam("cc-tester");
  if (pw == nullptr) {
    run_command({"useradd", "--create-home", "--shell", "/bin/bash", "cc-tester"});
    pw = ::getpwnam("cc-tester");
  }
  if (pw == nullptr) return false;
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return true;
}

EngineEnv::EngineEnv(EngineUser user, const std::string& storage, const std::string& policy)
    : user_(user), base_("cc-engine") {
  static std::atomic<int> counter{0};
  name_ = "t" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  if (user == EngineUser::root) {
    if (::geteuid() != 0) why_unusable_ = "the root variant needs the tests to run as root";
  } else if (!unprivileged_user(&uid_, &gid_)) {
    why_unusable_ = "no unprivileged test user (cc-tester) could be found or created";
  }
  if (user == EngineUser::root) {
    uid_ = 0;
    gid_ = 0;
  }
  project_ = base_.path() / "project";
  for (const auto& dir : {project_, runtime_dir(), data_dir(), home_dir(), base_.path() / "state"}) fs::create_directories(dir);
  fs::permissions(runtime_dir(), fs::perms::owner_all);
  fs::permissions(base_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
  write_config(storage, policy);
  write_project_file("README.md", "hello from the project\n");
  chown_tree(base_.path());
  approved_on_write_ = true;
  approve_config();
}

void EngineEnv::approve_config() const {
  // A config takes effect only once its user approved it (issue 7); these tests write theirs
  // by hand, as the user would, and approve it as the user would.
  if (!usable()) return;
  auto result = cli({"trust"});
  if (result.exit_code != 0) ADD_FAILURE() << "claude-container trust failed: " << result.err;
}

EngineEnv::~EngineEnv() {
  if (usable()) cli({"destroy", "--yes"}, "", 60);
  chown_tree(base_.path());  // so TempDir (root) can remove everything, whatever the user did
}

std::string EngineEnv::key() const { return engine::native::container_key(name_, project_); }

fs::path EngineEnv::state_base() const {
  return user_ == EngineUser::root ? fs::path("/run/claude-container") : runtime_dir() / "claude-container";
}

fs::path EngineEnv::data_base() const {
  return user_ == EngineUser::root ? fs::path("/var/lib/claude-container") : data_dir() / "claude-container";
}

void EngineEnv::chown_tree(const fs::path& path) const {
  if (::geteuid() != 0) return;
  std::error_code ec;
  ::lchown(path.c_str(), uid_, gid_);
  if (fs::is_directory(fs::symlink_status(path, ec))) {
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      ::lchown(it->path().c_str(), uid_, gid_);
    }
  }
}

void EngineEnv::write_config(const std::string& storage, const std::string& policy, const std::string& extra) {
  fs::create_directories(project_ / ".claude-container");
  std::vector<std::string> members = {
      "\"schema_version\": 1", "\"name\": \"" + name_ + "\"", "\"mode\": \"custom\"",
      "\"network\": {\"policy\": \"" + policy + "\", \"allow\": [], \"deny\": []}",
      "\"storage\": {\"type\": \"" + storage + "\"}"};
  // `extra` may bring its own engine, credentials or resources (the real agent needs more memory).
  if (extra.find("\"engine\"") == std::string::npos) members.push_back("\"engine\": \"native\"");
  if (extra.find("\"credentials\"") == std::string::npos) members.push_back("\"credentials\": {\"api\": \"separate\"}");
  if (extra.find("\"resources\"") == std::string::npos) {
    members.push_back("\"resources\": {\"cpus\": 1, \"memory\": \"512m\", \"pids\": 512}");
  }
  if (!extra.empty()) members.push_back(extra);
  std::ofstream out(project_ / ".claude-container" / "config.json", std::ios::trunc);
  out << "{\n";
  for (std::size_t i = 0; i < members.size(); ++i) out << "  " << members[i] << (i + 1 < members.size() ? ",\n" : "\n");
  out << "}\n";
  out.close();
  chown_tree(project_ / ".claude-container");
  if (approved_on_write_) approve_config();
}

void EngineEnv::write_project_file(const std::string& relative, const std::string& content) {
  fs::path file = project_ / relative;
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::trunc | std::ios::binary) << content;
  chown_tree(project_);
}

std::map<std::string, std::string> EngineEnv::environment() const {
  std::map<std::string, std::string> env = {{"PATH", tools_.dir()},
          {"HOME", home_dir().string()},
          {"XDG_RUNTIME_DIR", runtime_dir().string()},
          {"XDG_DATA_HOME", data_dir().string()},
          {"XDG_STATE_HOME", (base_.path() / "state").string()},
          {"LANG", "C.UTF-8"},
          {"TERM", "dumb"},
          {"CC_TEST_MARKER", name_},
          // tests/run.sh looks for processes left over from its run by this mark.
          {"CC_TEST_RUN", suite_run_id()}};
  for (const auto& [name, value] : extra_env_) env[name] = value;
  return env;
}

CommandOptions EngineEnv::options(const std::string& input, int timeout) const {
  CommandOptions o;
  o.env = environment();
  o.replace_env = true;
  o.input = input;
  o.timeout_seconds = timeout;
  o.cwd = project_;
  if (::geteuid() == 0 && user_ == EngineUser::unprivileged) {
    o.uid = uid_;
    o.gid = gid_;
  }
  return o;
}

CommandResult EngineEnv::cli(const std::vector<std::string>& args, const std::string& input, int timeout) const {
  std::vector<std::string> full = {"--project", project_.string()};
  full.insert(full.end(), args.begin(), args.end());
  return run_cli(full, options(input, timeout));
}

CommandResult EngineEnv::exec(const std::vector<std::string>& argv, const std::string& input) const {
  std::vector<std::string> args = {"exec", "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  return cli(args, input);
}

std::string suite_run_id() {
  const char* id = std::getenv("CC_TEST_RUN");
  return id != nullptr ? id : "";
}

bool process_running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return false;
  char state = text[close + 2];
  return state != 'Z' && state != 'X';
}

std::vector<pid_t> processes_mentioning(const std::string& marker) {
  std::vector<pid_t> found;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return found;
  while (dirent* entry = ::readdir(dir)) {
    pid_t pid = std::atoi(entry->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    for (const char* file : {"cmdline", "environ"}) {
      std::ifstream in(std::string("/proc/") + entry->d_name + "/" + file, std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      if (buffer.str().find(marker) != std::string::npos) {
        found.push_back(pid);
        break;
      }
    }
  }
  ::closedir(dir);
  return found;
}

}  // namespace cc::test
