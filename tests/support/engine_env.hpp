#pragma once
// A throwaway world for driving the native engine through the claude-container binary, as
// root or as the unprivileged user cc-tester (created when missing and we are root): a project
// directory with a config.json, and HOME / XDG_RUNTIME_DIR / XDG_DATA_HOME / XDG_STATE_HOME in
// a temporary directory owned by that user. The destructor destroys the container.
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/required_feature.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/tool_path.hpp"

namespace cc::test {

enum class EngineUser { root, unprivileged };
std::string to_string(EngineUser user);

// uid/gid of cc-tester (creating the user when root). Returns false when there is none.
bool unprivileged_user(uid_t* uid, gid_t* gid);

class EngineEnv {
 public:
  // Skips nothing itself: CC_SKIP_UNLESS_FEATURE(env.usable(), env.feature()) << env.why_unusable().
  EngineEnv(EngineUser user, const std::string& storage = "volume", const std::string& policy = "none");
  ~EngineEnv();
  EngineEnv(const EngineEnv&) = delete;
  EngineEnv& operator=(const EngineEnv&) = delete;

  bool usable() const { return why_unusable_.empty(); }
  const std::string& why_unusable() const { return why_unusable_; }
  // What a test of this engine needs from the machine, named for CC_REQUIRED_FEATURES.
  const char* feature() const { return user_ == EngineUser::root ? "root-engine" : "rootless-engine"; }

  const std::string& name() const { return name_; }
  const std::filesystem::path& project() const { return project_; }
  const std::filesystem::path& root() const { return base_.path(); }  // everything we made lives below
  std::filesystem::path runtime_dir() const { return base_.path() / "run"; }
  std::filesystem::path data_dir() const { return base_.path() / "data"; }
  std::filesystem::path home_dir() const { return base_.path() / "home"; }
  // Where the engine keeps this container: keyed by name + hash of the project path; as root
  // in /run/claude-container and /var/lib/claude-container whatever XDG_* say.
  std::string key() const;
  std::filesystem::path state_base() const;
  std::filesystem::path data_base() const;
  std::filesystem::path state_dir() const { return state_base() / key(); }
  std::filesystem::path container_data() const { return data_base() / key(); }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }

  // (Re)writes .claude-container/config.json and approves it (`claude-container trust` as the
  // test user); `extra` is spliced in as JSON members (a "credentials" member there replaces
  // the default {"api": "separate"}).
  void write_config(const std::string& storage, const std::string& policy, const std::string& extra = "");
  // A file in the project, owned by the test user.
  void write_project_file(const std::string& relative, const std::string& content);

  // claude-container --project <project> args...
  CommandResult cli(const std::vector<std::string>& args, const std::string& input = "", int timeout = 120) const;
  // exec -- argv...
  CommandResult exec(const std::vector<std::string>& argv, const std::string& input = "") const;
  // The environment the binary runs with.
  std::map<std::string, std::string> environment() const;
  // Adds (or replaces) a variable of that environment, e.g. the host's ANTHROPIC_API_KEY.
  void set_env(const std::string& name, const std::string& value) { extra_env_[name] = value; }
  CommandOptions options(const std::string& input = "", int timeout = 120) const;
  // Gives `path` and everything below it to the test user (when we are root).
  void chown_tree(const std::filesystem::path& path) const;
  // Approves the project's config as it is now (`claude-container trust`), for tests that
  // wrote it by hand.
  void approve_config() const;

 private:

  bool approved_on_write_ = false;
  std::map<std::string, std::string> extra_env_;
  EngineUser user_;
  TempDir base_;
  // The host programs the binary may run besides pasta (which it finds in the system
  // directories itself): nothing else of this machine's PATH.
  ToolPath tools_{{"tar", "diff"}};
  std::filesystem::path project_;
  std::string name_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::string why_unusable_;
};

// The id tests/run.sh gives this run of the suite (CC_TEST_RUN), or "".
std::string suite_run_id();

// True while `pid` runs (a zombie counts as gone).
bool process_running(pid_t pid);

// Host pids of the processes whose /proc/<pid>/environ or cmdline mentions `marker`.
std::vector<pid_t> processes_mentioning(const std::string& marker);

}  // namespace cc::test
