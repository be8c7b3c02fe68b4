// The native engine: each Engine method is a short sequence over the state directory
// (state_dir), the detached supervisor (supervisor), the sandbox (sandbox, rootfs, init),
// exec (exec) and the workspace layers (workspace/).
#include "engine/native/native_engine.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/native/control.hpp"
#include "engine/native/environment.hpp"
#include "engine/native/exec.hpp"
#include "engine/native/hardening.hpp"
#include "engine/native/paths.hpp"
#include "engine/native/rootfs.hpp"
#include "engine/native/sandbox.hpp"
#include "engine/native/state_dir.hpp"
#include "engine/native/supervisor.hpp"
#include "net/audit_log.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "workspace/file_tree.hpp"
#include "workspace/hybrid_base.hpp"
#include "workspace/volume_changes.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

void make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir.string() + ": " + ec.message());
}

// Creates the container's persistent data on first start. A data directory without the
// marker is what an interrupted creation leaves: it is removed and created again.
bool ensure_created(const ProjectContext& ctx, const ContainerPaths& paths, std::vector<std::string>& notes) {
  if (path_exists(paths.created_marker())) return false;
  if (path_exists(paths.data_dir)) {
    notes.push_back("found a half-created container in " + paths.data_dir.string() +
                    " (an earlier start was interrupted); removed it and created the container again");
    workspace::remove_tree(paths.data_dir);
  }
  const auto storage = ctx.config.storage.type;
  std::error_code ec;
  if (storage != config::StorageType::volume && !fs::is_directory(ctx.project_dir, ec)) {
    throw Error("the project directory " + ctx.project_dir.string() + " does not exist.");
  }
  make_private_dir(paths.data_dir);
  ::chmod(paths.data_dir.c_str(), 0700);
  make_private_dir(paths.home_dir());
  switch (storage) {
    case config::StorageType::volume: {
      fs::path partial = paths.data_dir / "workspace.partial";
      workspace::copy_tree(ctx.project_dir, partial);
      workspace::record_seed_base(partial, paths.seed_base());  // the base diff compares against
      fs::rename(partial, paths.volume_dir(), ec);
      if (ec) throw Error("cannot create the workspace volume " + paths.volume_dir().string() + ": " + ec.message());
      break;
    }
    case config::StorageType::hybrid:
      make_private_dir(paths.upper_dir());
      make_private_dir(paths.work_dir());
      break;
    case config::StorageType::bind:
      break;
  }
  nlohmann::json marker = {{"created_at", static_cast<std::int64_t>(std::time(nullptr))},
                           {"storage", config::to_string(storage)},
                           {"project_dir", ctx.project_dir.string()}};
  write_file_atomic(paths.created_marker(), marker.dump(2) + "\n", 0600);
  return true;
}

// Asks the supervisor to stop and waits; falls back to killing pid 1 when it does not answer.
void stop_running(const ContainerPaths& paths, const RunState& state, std::chrono::seconds grace) {
  int timeout_ms = static_cast<int>((grace.count() + 15) * 1000);
  auto reply = control_request(paths.state_dir, "stop " + std::to_string(grace.count()), timeout_ms);
  if (reply && reply->rfind("stopped", 0) == 0) return;
  // The supervisor did not answer: end pid 1 (the supervisor then exits), verified by identity.
  if (state.init_pid > 0 && process_start_time(state.init_pid) == state.init_start_time) ::kill(state.init_pid, SIGKILL);
  for (int i = 0; i < 500 && supervisor_alive(paths); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (supervisor_alive(paths)) {
    throw Error("the container's supervisor (pid " + std::to_string(state.supervisor_pid) +
                ") does not respond and does not exit; kill it and run `claude-container status`.");
  }
  auto again = inspect(paths);
  if (again.stale && again.state) clean_stale_state(paths, *again.state);
}

workspace::WorkspaceLayout layout_for(const ProjectContext& ctx, const ContainerPaths& paths) {
  if (!path_exists(paths.created_marker())) {
    throw not_set_up_error("the container " + ctx.config.name + " has not been created yet; run `claude-container start`.");
  }
  workspace::WorkspaceLayout layout;
  layout.project = ctx.project_dir;
  layout.journal = paths.apply_journal();
  switch (ctx.config.storage.type) {
    case config::StorageType::hybrid:
      layout.kind = workspace::StorageKind::hybrid;
      layout.changes = paths.upper_dir();
      layout.work = paths.work_dir();
      layout.hybrid_base = paths.hybrid_base();
      break;
    case config::StorageType::volume:
      layout.kind = workspace::StorageKind::volume;
      layout.changes = paths.volume_dir();
      layout.seed_base = paths.seed_base();
      break;
    case config::StorageType::bind:
      throw not_set_up_error("the workspace of " + ctx.config.name +
                             " uses bind storage: the container writes into the project directly, so there is nothing "
                             "to review; diff, apply and discard work with hybrid or volume storage.");
  }
  return layout;
}

}  // namespace

StartResult NativeEngine::start(const ProjectContext& ctx) {
  if (ctx.config.image.base != "host") {
    throw usage_error("the native engine runs the `host` image only in this build; \"image\": {\"base\": \"" +
                      ctx.config.image.base +
                      "\"} needs a built image directory, which is not supported yet. Set image.base to host in "
                      ".claude-container/config.json.");
  }
  ContainerPaths paths = container_paths(ctx.config.name);
  StateLock lock(paths, StateLock::Mode::exclusive);
  StartResult result;
  Inspection found = inspect(paths);
  if (found.running) {
    result.already_running = true;
    return result;
  }
  if (found.stale && found.state) result.notes.push_back(clean_stale_state(paths, *found.state));
  result.created = ensure_created(ctx, paths, result.notes);
  if (ctx.config.storage.type == config::StorageType::hybrid) {
    // The base of apply's three-way check: the project as the container starts to see it.
    workspace::record_hybrid_base(ctx.project_dir, paths.upper_dir(), paths.hybrid_base());
  }

  SupervisorSpec spec;
  spec.paths = paths;
  spec.project_dir = ctx.project_dir;
  spec.config = ctx.config;
  spec.sandbox.rootfs = plan_rootfs(paths, ctx.project_dir, ctx.config.storage.type);
  spec.sandbox.hardening = base_hardening_plan();
  spec.sandbox.hostname = ctx.config.name;
  plan_id_maps(spec.sandbox);
  make_private_dir(paths.root_mountpoint());
  RunState state = launch_supervisor(spec);
  for (const auto& note : state.notes) result.notes.push_back(note);
  std::string unenforced, first_reason;
  for (const auto& limit : state.limits) {
    if (!limit.enforced && (limit.name == "memory" || limit.name == "pids" || limit.name == "cpus")) {
      unenforced += (unenforced.empty() ? "" : ", ") + limit.name;
      if (first_reason.empty()) first_reason = limit.reason;
    }
  }
  if (!unenforced.empty()) {
    result.notes.push_back("resource limits not enforced (" + unenforced + "): " + first_reason +
                           "; `claude-container status` lists each limit");
  }
  return result;
}

int NativeEngine::exec(const ProjectContext& ctx, const ExecRequest& req) {
  ContainerPaths paths = container_paths(ctx.config.name);
  ExecPlan plan;
  {
    StateLock lock(paths, StateLock::Mode::shared);
    Inspection found = inspect(paths);
    if (!found.running) {
      if (!path_exists(paths.created_marker())) {
        throw not_set_up_error("the container " + ctx.config.name + " has not been created; run `claude-container start`.");
      }
      throw Error("the container " + ctx.config.name + " is not running; start it with `claude-container start`.");
    }
    const RunState& state = *found.state;
    plan.init_pid = state.init_pid;
    plan.init_start_time = state.init_start_time;
    plan.own_netns = state.own_netns;
    plan.cgroup_dirs = state.cgroup_dirs;
    plan.hardening = make_hardening_plan(paths.seccomp_cache());
  }
  plan.argv = req.argv.empty() ? login_shell_argv() : req.argv;
  plan.env = container_environment(ctx, req, req.tty);
  plan.path_dirs = container_path_dirs();
  plan.workdir = req.workdir.value_or("/workspace");
  plan.tty = req.tty;
  return run_exec(plan);
}

void NativeEngine::stop(const ProjectContext& ctx, const StopOptions& opts) {
  ContainerPaths paths = container_paths(ctx.config.name);
  StateLock lock(paths, StateLock::Mode::exclusive);
  Inspection found = inspect(paths);
  if (found.stale && found.state) {
    clean_stale_state(paths, *found.state);
    return;
  }
  if (!found.running) return;
  stop_running(paths, *found.state, opts.grace);
}

Status NativeEngine::status(const ProjectContext& ctx) {
  ContainerPaths paths = container_paths(ctx.config.name);
  Status status;
  status.engine = "native";
  std::error_code ec;
  bool created = path_exists(paths.created_marker());
  if (!created && !path_exists(paths.state_dir)) return status;  // not created, nothing to look at
  // A shared lock is enough to read; only stale remains need the exclusive one to clean up.
  auto lock = std::make_unique<StateLock>(paths, StateLock::Mode::shared);
  Inspection found = inspect(paths);
  if (found.stale) {
    lock.reset();
    lock = std::make_unique<StateLock>(paths, StateLock::Mode::exclusive);
    found = inspect(paths);
    if (found.stale && found.state) status.notes.push_back(clean_stale_state(paths, *found.state));
  }
  if (!found.running) {
    status.state = created ? ContainerState::stopped : ContainerState::not_created;
    if (created) status.mounts = plan_rootfs(paths, ctx.project_dir, ctx.config.storage.type).described;
    return status;
  }
  const RunState& state = *found.state;
  status.state = ContainerState::running;
  status.pid = state.init_pid;
  status.supervisor_pid = state.supervisor_pid;
  status.started_at = state.started_at;
  status.mounts = state.mounts;
  status.limits = state.limits;
  status.network_mode = state.network_mode;
  for (const auto& note : state.notes) status.notes.push_back(note);
  if (auto reply = control_request(paths.state_dir, "status", 2000)) {
    auto pos = reply->find("denials ");
    if (pos != std::string::npos) status.network_denials = std::stoull(reply->substr(pos + 8));
  } else if (path_exists(paths.audit_log())) {
    status.network_denials = net::count_denials(paths.audit_log());
    status.notes.push_back("the supervisor did not answer; network denials counted from the audit log");
  }
  return status;
}

void NativeEngine::destroy(const ProjectContext& ctx) {
  ContainerPaths paths = container_paths(ctx.config.name);
  {
    StateLock lock(paths, StateLock::Mode::exclusive);
    Inspection found = inspect(paths);
    if (found.running) stop_running(paths, *found.state, std::chrono::seconds(5));
    else if (found.stale && found.state) clean_stale_state(paths, *found.state);
    workspace::remove_tree(paths.data_dir);
  }
  workspace::remove_tree(paths.state_dir);
}

int NativeEngine::logs(const ProjectContext& ctx, const LogOptions& opts) {
  ContainerPaths paths = container_paths(ctx.config.name);
  if (!path_exists(paths.created_marker()) && !path_exists(paths.log_file())) {
    throw not_set_up_error("the container " + ctx.config.name + " has not been created; there are no logs yet.");
  }
  if (opts.network) {
    net::print_audit_log(paths.audit_log(), opts.follow, std::cout);
    std::cout.flush();
    return 0;
  }
  UniqueFd fd(::open(paths.log_file().c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;  // created but never started
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n > 0) {
      std::cout.write(buf, n);
      continue;
    }
    std::cout.flush();
    // -f: keep following while the container runs; end once it stopped and the log is drained.
    if (!opts.follow || !supervisor_alive(paths)) {
      if (opts.follow) {
        while ((n = ::read(fd.get(), buf, sizeof(buf))) > 0) std::cout.write(buf, n);
        std::cout.flush();
      }
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void NativeEngine::reload_network_policy(const ProjectContext& ctx) {
  ContainerPaths paths = container_paths(ctx.config.name);
  if (!supervisor_alive(paths)) return;  // read again at the next start
  auto reply = control_request(paths.state_dir, "reload", 10000);
  if (!reply) throw Error("the container's supervisor did not answer the policy reload; try `claude-container restart`.");
  if (reply->rfind("error ", 0) == 0) {
    std::string why = reply->substr(6);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw Error("the running container could not reload its network policy: " + why);
  }
}

void NativeEngine::with_workspace(const ProjectContext& ctx, bool require_stopped,
                                  const std::function<void(const workspace::WorkspaceLayout&, bool running)>& action) {
  ContainerPaths paths = container_paths(ctx.config.name);
  auto layout = layout_for(ctx, paths);
  // A review only reads (and removes an interrupted apply's leftovers, which a concurrent
  // review may do too): shared, so exec is not held up. Apply and discard: exclusive.
  StateLock lock(paths, require_stopped ? StateLock::Mode::exclusive : StateLock::Mode::shared);
  bool running = supervisor_alive(paths);
  if (require_stopped && running) {
    throw Error("the container " + ctx.config.name +
                " is running, so its workspace can still change; stop it first (`claude-container stop`), then run this "
                "again.");
  }
  action(layout, running);
}

}  // namespace cc::engine::native
