#pragma once
// A sandboxed environment for running the CLI in tests: its own HOME, XDG dirs, git config,
// no colour, and a PATH of exactly the system programs the CLI runs (tar for sync-skills, diff
// for the workspace diff, git for the host's identity), so nothing of the machine's user leaks
// in and nothing leaks out.
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/tool_path.hpp"

namespace cc::test {

// The commands DESIGN.md section 2 promises, plus the documentation commands.
inline const std::vector<std::string> kContractCommands = {
    "init", "menu", "start", "shell", "exec",  "run",   "status",  "stop",        "restart", "destroy",
    "logs", "allow", "deny", "diff",  "apply", "discard", "claude", "sync-skills", "doctor", "trust",
    "login", "logout"};
inline const std::vector<std::string> kDocsCommands = {"help", "completion", "man"};

class CliTestEnv {
 public:
  CliTestEnv() : root_("cc-cli") {
    std::filesystem::create_directories(home());
    std::filesystem::create_directories(project());
    std::filesystem::create_directories(root_ / "run");
    env_ = {{"PATH", tools_.dir()},
            {"HOME", home().string()},
            {"XDG_RUNTIME_DIR", (root_ / "run").string()},
            {"XDG_STATE_HOME", (root_ / "state").string()},
            {"XDG_DATA_HOME", (root_ / "data").string()},
            {"XDG_CONFIG_HOME", (root_ / "config").string()},
            {"CLAUDE_CONFIG_DIR", (home() / ".claude").string()},
            {"GIT_CONFIG_GLOBAL", (root_ / "gitconfig").string()},
            {"GIT_CONFIG_NOSYSTEM", "1"},
            {"NO_COLOR", "1"},
            {"TERM", "xterm"}};
  }

  std::filesystem::path root() const { return root_.path(); }

  // Runs every later command as this user (the tests run as root) after giving them the
  // whole test tree; call give_tree() again after making files as root.
  void become(uid_t uid, gid_t gid) {
    uid_ = uid;
    gid_ = gid;
    give_tree();
  }
  void give_tree() const {
    if (!uid_) return;
    std::error_code ec;
    ::lchown(root_.path().c_str(), *uid_, *gid_);
    for (auto it = std::filesystem::recursive_directory_iterator(root_.path(), ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      ::lchown(it->path().c_str(), *uid_, *gid_);
  }
  std::filesystem::path home() const { return root_ / "home"; }
  // The project directory; its name gives the default container name "myapp-<mode>".
  std::filesystem::path project() const { return root_ / "myapp"; }
  const std::map<std::string, std::string>& env() const { return env_; }
  void set_env(const std::string& key, const std::string& value) { env_[key] = value; }

  void write_git_identity(const std::string& name, const std::string& email) const {
    std::ofstream(root_ / "gitconfig") << "[user]\n\tname = " << name << "\n\temail = " << email << "\n";
  }

  // Runs the binary in the project directory (or `cwd`) with stdin from `input` (a pipe).
  CommandResult run(const std::vector<std::string>& args, const std::string& input = "") const {
    return run_in(project(), args, input);
  }
  CommandResult run_in(const std::filesystem::path& cwd, const std::vector<std::string>& args,
                       const std::string& input = "") const {
    CommandOptions options;
    options.cwd = cwd;
    options.env = env_;
    options.input = input;
    options.uid = uid_;
    options.gid = gid_;
    return run_cli(args, options);
  }

  nlohmann::json config_json() const {
    std::ifstream in(project() / ".claude-container/config.json");
    return nlohmann::json::parse(in);
  }
  bool exists(const std::string& relative) const { return std::filesystem::exists(project() / relative); }
  std::string read(const std::string& relative) const {
    std::ifstream in(project() / relative);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  TempDir root_;
  ToolPath tools_{{"tar", "diff", "git"}};
  std::map<std::string, std::string> env_;
  std::optional<uid_t> uid_;
  std::optional<gid_t> gid_;
};

// The attacks are tested as root and as an unprivileged user (cc-tester when we are root).
enum class TestUser { root, unprivileged };
inline std::string user_name(const ::testing::TestParamInfo<TestUser>& info) {
  return info.param == TestUser::root ? "root" : "unprivileged";
}
// Makes `env` run as `user`; false (and a reason) when that user is not available here.
inline bool run_as(CliTestEnv& env, TestUser user, std::string* why) {
  const bool root = ::geteuid() == 0;
  if (user == TestUser::root) {
    if (!root) *why = "the root variant needs the tests to run as root";
    return root;
  }
  if (!root) return true;  // already unprivileged
  const passwd* pw = ::getpwnam("cc-tester");
  if (pw == nullptr) {
    *why = "no cc-tester user";
    return false;
  }
  env.become(pw->pw_uid, pw->pw_gid);
  return true;
}

inline std::size_t line_count(const std::string& text) {
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  return lines + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

}  // namespace cc::test
