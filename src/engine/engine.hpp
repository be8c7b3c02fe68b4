#pragma once
// The Engine interface every backend implements (native, apple, docker/podman). The CLI owns
// prompts and output; engines do the work and report through return values and cc::Error.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "integrations/skills.hpp"
#include "workspace/workspace_layout.hpp"

namespace cc::engine {

struct ProjectContext {
  std::filesystem::path project_dir;  // absolute
  config::Config config;
};

enum class ContainerState { not_created, stopped, running };
std::string to_string(ContainerState);

struct LimitStatus {
  std::string name;      // "memory", "pids", "cpus", "seccomp", "landlock", "no_new_privs", ...
  std::string value;     // "4g", "4096", ...
  bool enforced = false;
  std::string reason;    // why not enforced, or how
};

struct MountInfo {
  std::string destination;  // inside the container
  std::string source;       // on the host, or a description ("tmpfs", "proc")
  bool read_only = false;
};

struct Status {
  ContainerState state = ContainerState::not_created;
  std::string engine;                       // "native", ...
  std::optional<pid_t> pid;                 // container pid 1, host pid
  std::optional<pid_t> supervisor_pid;      // host pid
  std::optional<std::int64_t> started_at;   // unix seconds
  std::vector<MountInfo> mounts;
  std::vector<LimitStatus> limits;
  std::string network_mode;                 // how the policy is realised ("proxy", "pasta", "host network")
  std::uint64_t network_denials = 0;        // since start
  // credentials.api "gateway" while running: the kind the gateway adds ("api_key",
  // "oauth_token") and where it came from; never the value. Empty otherwise.
  std::string gateway_kind;
  std::string gateway_origin;
  std::vector<std::string> notes;           // things found and repaired, warnings
};

struct StartResult {
  bool already_running = false;
  bool created = false;                     // first start of this container
  std::vector<std::string> notes;           // repairs done, degraded features
};

struct ExecRequest {
  std::vector<std::string> argv;            // empty = login shell (bash, else sh)
  bool tty = false;                         // allocate a pty inside, forward window size
  std::map<std::string, std::string> extra_env;
  std::optional<std::string> workdir;       // default: the workspace
};

// What refresh_skills did in a running container.
struct SkillsRefresh {
  std::vector<std::string> mounted;         // entries shared (again), e.g. "skills", "CLAUDE.md"
  std::vector<std::string> notes;           // entries that could not be
};

struct StopOptions {
  std::chrono::seconds grace{10};           // SIGTERM, then SIGKILL after this
};

struct LogOptions {
  bool network = false;                     // the egress audit instead of the container log
  bool follow = false;
};

// doctor (DESIGN.md section 2): what this engine needs from this machine, checked for real.
enum class CheckLevel { ok, warn, fail };

struct PreflightCheck {
  std::string name;         // "user namespaces", "podman", "cgroup delegation", ...
  CheckLevel level = CheckLevel::ok;
  std::string detail;       // what was found
  std::string fix;          // empty when ok: the command or setting that fixes it
};

struct Preflight {
  std::string engine;               // "native", "podman", ...
  std::vector<PreflightCheck> checks;
  bool ready() const {              // no check failed
    for (const auto& c : checks)
      if (c.level == CheckLevel::fail) return false;
    return true;
  }
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;

  // Everything this engine needs from this machine and has no fallback for, each checked for
  // real (a namespace created, a syscall tried, the CLI asked for its version). `ctx` may be
  // null (doctor outside a project): then only what every project needs is checked.
  virtual Preflight preflight(const ProjectContext* ctx) = 0;

  virtual StartResult start(const ProjectContext& ctx) = 0;                 // idempotent
  virtual int exec(const ProjectContext& ctx, const ExecRequest& req) = 0;  // returns exit status
  virtual void stop(const ProjectContext& ctx, const StopOptions& opts) = 0;
  virtual Status status(const ProjectContext& ctx) = 0;
  virtual void destroy(const ProjectContext& ctx) = 0;    // container, volumes, state; not project files
  // `destroy --image`: also the image built for this project (image engines keep it across
  // destroy, a rebuild costs minutes). False when this engine builds none or there is none.
  virtual bool remove_image(const ProjectContext& /*ctx*/) { return false; }
  virtual int logs(const ProjectContext& ctx, const LogOptions& opts) = 0;  // writes to stdout
  // The config's network allow/deny lists changed: apply them to a running container now.
  virtual void reload_network_policy(const ProjectContext& ctx) = 0;
  // skills.sync: shares `items` (integrations/skills.hpp) with the running container again
  // without copying. nullopt: this engine copies, so the caller copies through exec.
  virtual std::optional<SkillsRefresh> refresh_skills(const ProjectContext& /*ctx*/,
                                                      const std::vector<integrations::SkillItem>& /*items*/) {
    return std::nullopt;
  }

  // Hybrid and volume storage: runs `action` on where the workspace's changes are, with the
  // container's state lock held so that it cannot start meanwhile. `require_stopped`: refuse
  // (naming `claude-container stop`) while it runs, so the change layer is frozen (apply,
  // discard). Bind storage throws cc::Error (not_set_up): it has no change layer.
  virtual void with_workspace(const ProjectContext& ctx, bool require_stopped,
                              const std::function<void(const workspace::WorkspaceLayout&, bool running)>& action) = 0;
};

// Picks the engine for config.engine ("auto": native on Linux, apple on macOS). Throws cc::Error with a
// clear sentence when the chosen engine cannot run on this machine.
std::unique_ptr<Engine> make_engine(const config::Config& config);

}  // namespace cc::engine
