// The native engine: each Engine method is a short sequence over the state directory
// (state_dir), the detached supervisor (supervisor), the sandbox (sandbox, rootfs, init),
// exec (exec) and the workspace layers (workspace/).
#include "engine/native/native_engine.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/config_io.hpp"
#include "config/config_paths.hpp"
#include "config/container_env.hpp"
#include "engine/native/agent_mount.hpp"
#include "engine/native/cgroups.hpp"
#include "engine/native/control.hpp"
#include "engine/native/environment.hpp"
#include "engine/native/exec.hpp"
#include "engine/native/hardening.hpp"
#include "engine/native/id_mapping.hpp"
#include "engine/native/oom_watch.hpp"
#include "engine/native/paths.hpp"
#include "engine/native/resource_limits.hpp"
#include "engine/native/rootfs.hpp"
#include "engine/native/sandbox.hpp"
#include "engine/native/skills_mount.hpp"
#include "engine/native/state_dir.hpp"
#include "engine/native/workspace_layout_for.hpp"
#include "engine/native/supervisor.hpp"
#include "integrations/agent_environment.hpp"
#include "integrations/agent_install.hpp"
#include "integrations/agent_onboarding.hpp"
#include "integrations/api_credential.hpp"
#include "integrations/git_setup.hpp"
#include "integrations/skills.hpp"
#include "net/audit_log.hpp"
#include "net/pasta.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "workspace/file_tree.hpp"
#include "workspace/hybrid_base.hpp"
#include "workspace/volume_changes.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

ContainerPaths paths_for(const ProjectContext& ctx) { return container_paths(ctx.config.name, ctx.project_dir); }

void make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir.string() + ": " + ec.message());
}

// What the creation marker says about the container: made for which project, with which storage.
struct CreatedRecord {
  std::string project_dir;
  std::string storage;
};

std::optional<CreatedRecord> read_created(const ContainerPaths& paths) {
  auto text = read_private_file(paths.created_marker(), 64 * 1024);
  if (!text) return std::nullopt;
  CreatedRecord record;
  try {
    auto j = nlohmann::json::parse(*text);
    record.project_dir = j.value("project_dir", "");
    record.storage = j.value("storage", "");
  } catch (const nlohmann::json::exception&) {
    throw Error("the container's creation record " + paths.created_marker().string() +
                " is damaged; run `claude-container destroy` and start again.");
  }
  return record;
}

// A container is only ever entered for the project it was made for, with the storage it was
// made with: the key already differs per project path; this catches everything else.
void check_identity(const ProjectContext& ctx, const ContainerPaths& paths, const CreatedRecord& record) {
  const std::string here = canonical_project(ctx.project_dir).string();
  if (record.project_dir != here) {
    throw Error("refused to use the container " + ctx.config.name + " (" + paths.data_dir.string() +
                "): it was created for the project " + record.project_dir + ", not " + here +
                "; give this project a name of its own in .claude-container/config.json.");
  }
  const std::string storage = config::to_string(ctx.config.storage.type);
  if (!record.storage.empty() && record.storage != storage) {
    throw usage_error("the container " + ctx.config.name + " was created with " + record.storage +
                      " storage, and the config now says " + storage +
                      "; an existing container's storage cannot change. Set \"storage\": {\"type\": \"" +
                      record.storage + "\"} again, or run `claude-container destroy` (which deletes the container's "
                      "home" + std::string(record.storage == "bind" ? "" : " and workspace data") +
                      ") and `claude-container start` to create it with " + storage + " storage.");
  }
}

// Creates the container's persistent data on first start. A data directory without the
// marker is what an interrupted creation leaves: it is removed and created again.
bool ensure_created(const ProjectContext& ctx, const ContainerPaths& paths, std::vector<std::string>& notes) {
  ensure_private_dir(paths.data_base);
  if (auto record = read_created(paths)) {
    check_identity(ctx, paths, *record);
    return false;
  }
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
  ensure_private_dir(paths.data_dir);
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
                           {"project_dir", canonical_project(ctx.project_dir).string()},
                           {"name", ctx.config.name}};
  write_file_atomic(paths.created_marker(), marker.dump(2) + "\n", 0600);
  return true;
}

// The config this container runs with: validated by the CLI at start, stored where only we can
// write. exec and the supervisor use it, so a container rewriting the project's config.json
// (bind storage) changes nothing until the user starts it again.
void store_effective_config(const ContainerPaths& paths, const config::Config& config) {
  write_runtime_file(paths.effective_config(), config::serialize_config(config));
}

config::Config load_effective_config(const ContainerPaths& paths, const std::string& name) {
  auto text = read_private_file(paths.effective_config(), 1 << 20);
  if (!text) {
    throw Error("the running container " + name + " has no stored configuration (" + paths.effective_config().string() +
                "), so its policy is unknown; run `claude-container restart`.");
  }
  return config::parse_config(*text, paths.effective_config().string());
}

// As root, the container's root is the range's first id on the host: its home, volume and
// overlay layers belong to that id (a container created by an older version gets them now).
void give_data_to_container_root(const ContainerPaths& paths, const SubordinateRange& range) {
  struct stat st {};
  if (::lstat(paths.home_dir().c_str(), &st) == 0 && st.st_uid == range.uid_start) return;
  for (const auto& dir : {paths.home_dir(), paths.volume_dir(), paths.upper_dir(), paths.work_dir()}) {
    if (path_exists(dir)) chown_tree(dir, range.uid_start, range.gid_start);
  }
}

// Asks the supervisor to stop and waits; falls back to killing pid 1 when it does not answer.
void stop_running(const ContainerPaths& paths, const RunState& state, std::chrono::seconds grace) {
  auto reply = control_call(paths.state_dir, stop_request(grace.count()), stop_reply_timeout_ms(grace.count()));
  if (reply && reply_flag(*reply, "stopped")) return;
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


// A cgroup limit counts as enforced only while pid 1 is in that cgroup (resource_limits.hpp).
void verify_limits(RunState& state) {
  verify_cgroup_limits(read_cgroup_file("/proc/" + std::to_string(state.init_pid) + "/cgroup"), state.cgroup_dirs,
                       state.limits);
}

// `development` trusts the code it runs: git inside may change hooks and .git/config.
bool relax_git(const config::Config& config) { return config.mode == config::Mode::development; }

// The container shares the host's network namespace: `full` without pasta, accepted by name.
bool uses_host_network(const config::Config& config) {
  return config.network.policy == config::NetworkPolicy::full && config.network.host_network && !net::find_pasta();
}

// A CA bundle is a few certificates; far larger is not one.
constexpr std::size_t kMaxCaFileBytes = 1 << 20;

// Whether `pem` holds at least one certificate the gateway can add to its trust store. Checked
// here, before anything starts, because the supervisor builds the gateway after the container
// is reported running.
bool holds_a_certificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  const bool found = cert != nullptr;
  X509_free(cert);
  BIO_free(bio);
  ERR_clear_error();
  return found;
}

// credentials.api "gateway": the real credential and the CA text, found before anything is
// created, so a start without them changes nothing. The gateway's port must be inside the
// container's own network namespace: on the host's it would be on its loopback for every
// local process to use.
void refuse_gateway_on_host_network(const config::Config& config) {
  if (config.credentials.api == config::ApiCredentials::gateway && uses_host_network(config)) {
    throw usage_error("refused to start " + config.name +
                      ": credentials.api \"gateway\" needs a network namespace of the container's own, and "
                      "network.host_network shares this machine's, where the gateway's port (which adds your key) "
                      "would be on the host's loopback for every local process to use; install passt (e.g. `apt "
                      "install passt`), or choose credentials.api \"separate\" or \"shared\" in "
                      ".claude-container/config.json.");
  }
}

void prepare_gateway(const ProjectContext& ctx, SupervisorSpec& spec) {
  const auto& config = ctx.config;
  if (config.credentials.api != config::ApiCredentials::gateway) return;
  auto found = integrations::find_api_credential(config::host_environment());
  if (!found) throw Error(integrations::no_credential_sentence("cannot start " + config.name + " with credentials.api \"gateway\""));
  if (!config.credentials.ca_file.empty()) {
    auto pem = config::read_config_path(ctx.project_dir, "credentials.ca_file", config.credentials.ca_file,
                                        kMaxCaFileBytes);
    if (!pem) {
      throw usage_error("credentials.ca_file names " + config.credentials.ca_file +
                        ", which does not exist; fix the path in .claude-container/config.json or set it to \"\".");
    }
    if (!holds_a_certificate(*pem)) {
      throw usage_error("credentials.ca_file (" + config.credentials.ca_file +
                        ") holds no PEM certificate; point it at the CA certificate (PEM) that signed the upstream's "
                        "certificate, or set it to \"\" in .claude-container/config.json.");
    }
    spec.gateway_ca_pem = std::move(*pem);
  }
  spec.gateway_origin = integrations::describe_origin(*found);
  spec.gateway_credential = std::move(found->credential);
}

// `full` without pasta means the host's own network namespace: its loopback services and
// abstract unix sockets become reachable from inside. Only when the config says so by name.
void refuse_host_network_unless_asked(const config::Config& config) {
  if (config.network.policy != config::NetworkPolicy::full || config.network.host_network) return;
  if (net::find_pasta()) return;
  throw usage_error("refused to start " + config.name +
                    " with the full network policy: pasta (passt) is not installed, and without it the container "
                    "would share this machine's network namespace, where services on its loopback and abstract "
                    "unix sockets are reachable; install passt (e.g. `apt install passt`), or accept the host "
                    "network with \"network\": {\"policy\": \"full\", \"host_network\": true} in "
                    ".claude-container/config.json.");
}

// The git config, helper and sockets (integrations/git_setup.hpp): written in the state
// directory at every start, seen read-only inside.
void add_git_directory(const ContainerPaths& paths, const config::Config& config, RootfsPlan& rootfs) {
  const fs::path dir = paths.state_dir / "git";
  integrations::write_git_files(dir, config);
  rootfs.steps.push_back(MountStep{MountStep::Kind::bind_ro, dir.string(), std::string(".") + integrations::kGitDirInside,
                                   "", "", 0755});
  rootfs.described.push_back({integrations::kGitDirInside, dir.string() + " (git config, credential helper)", true});
}

// The host's Claude Code made visible inside, and its first-run state in the container's home
// (see agent_mount.hpp and integrations/agent_onboarding.hpp).
void prepare_agent(const ProjectContext& ctx, const ContainerPaths& paths, SupervisorSpec& spec,
                   std::vector<std::string>& notes) {
  const bool as_root = ::geteuid() == 0;
  if (auto install = integrations::find_claude_code(config::host_environment())) {
    for (auto& note : plan_agent_mount(spec.sandbox.rootfs, *install, as_root)) notes.push_back(std::move(note));
  } else if (integrations::agent_is_claude_code(ctx.config)) {
    notes.push_back(integrations::claude_code_install_hint());
  }
  uid_t uid = as_root ? spec.range.uid_start : ::geteuid();
  gid_t gid = as_root ? spec.range.gid_start : ::getegid();
  // With `shared` the key is inside anyway; approving it (by its tail, as Claude Code does)
  // lets an interactive session open at its prompt.
  std::string shared_key;
  if (ctx.config.credentials.api == config::ApiCredentials::shared) {
    try {
      auto found = integrations::find_api_credential(config::host_environment());
      if (found && found->credential.kind == net::CredentialKind::api_key) shared_key = found->credential.value;
    } catch (const Error&) {
      // Named when the credential is passed in (credential_environment); nothing to approve here.
    }
  }
  for (auto& note : integrations::prepare_agent_home(paths.home_dir(), ctx.config, uid, gid, shared_key)) {
    notes.push_back(std::move(note));
  }
}

// skills.sync: the host's skills, commands, agents and CLAUDE.md mounted read-only in the
// container's /root/.claude (skills_mount.hpp).
void prepare_skills(const ProjectContext& ctx, const ContainerPaths& paths, SupervisorSpec& spec,
                    std::vector<std::string>& notes) {
  if (!ctx.config.skills.sync) return;
  auto dir = integrations::host_claude_dir(config::host_environment());
  if (!dir) return;
  auto items = integrations::shared_skill_items(*dir, &notes);
  const bool as_root = ::geteuid() == 0;
  uid_t uid = as_root ? spec.range.uid_start : ::geteuid();
  gid_t gid = as_root ? spec.range.gid_start : ::getegid();
  for (auto& note : plan_skill_mounts(spec.sandbox.rootfs, paths.home_dir(), items, uid, gid)) notes.push_back(std::move(note));
}

}  // namespace

std::optional<SkillsRefresh> NativeEngine::refresh_skills(const ProjectContext& ctx,
                                                          const std::vector<integrations::SkillItem>& items) {
  ContainerPaths paths = paths_for(ctx);
  StateLock lock(paths, StateLock::Mode::shared);
  Inspection found = inspect(paths);
  if (!found.running) {
    throw Error("the container " + ctx.config.name + " is not running; start it with `claude-container start`.");
  }
  if (auto record = read_created(paths)) check_identity(ctx, paths, *record);
  auto done = refresh_skill_mounts(found.state->init_pid, found.state->init_start_time, items);
  return SkillsRefresh{std::move(done.mounted), std::move(done.notes)};
}

StartResult NativeEngine::start(const ProjectContext& ctx) {
  if (ctx.config.image.base != "host") {
    throw usage_error("the native engine runs the `host` image only in this build; \"image\": {\"base\": \"" +
                      ctx.config.image.base +
                      "\"} needs a built image directory, which is not supported yet. Set image.base to host in "
                      ".claude-container/config.json.");
  }
  refuse_host_network_unless_asked(ctx.config);
  refuse_gateway_on_host_network(ctx.config);
  ContainerPaths paths = paths_for(ctx);
  StateLock lock(paths, StateLock::Mode::exclusive);
  StartResult result;
  Inspection found = inspect(paths);
  if (found.running) {
    result.already_running = true;
    return result;
  }
  SupervisorSpec spec;
  prepare_gateway(ctx, spec);  // before anything is created or cleaned
  spec.git = integrations::find_git_credentials(ctx.config, config::host_environment());
  if (found.stale && found.state) result.notes.push_back(clean_stale_state(paths, *found.state));
  result.created = ensure_created(ctx, paths, result.notes);
  store_effective_config(paths, ctx.config);
  if (ctx.config.storage.type == config::StorageType::hybrid) {
    // The base of apply's three-way check: the project as the container starts to see it.
    workspace::record_hybrid_base(ctx.project_dir, paths.upper_dir(), paths.hybrid_base());
  }

  spec.paths = paths;
  spec.project_dir = ctx.project_dir;
  spec.config = ctx.config;
  spec.sandbox.rootfs = plan_rootfs(paths, ctx.project_dir, ctx.config.storage.type, relax_git(ctx.config));
  size_tmpfs_mounts(spec.sandbox.rootfs, ctx.config.resources);
  spec.sandbox.hardening = base_hardening_plan();
  spec.sandbox.hardening.rlimits = plan_rlimits(ctx.config.resources);
  spec.sandbox.hostname = ctx.config.name;
  add_git_directory(paths, ctx.config, spec.sandbox.rootfs);
  if (auto note = plan_id_maps(spec.sandbox); !note.empty()) result.notes.push_back(note);
  if (::geteuid() == 0) {
    spec.range = root_subordinate_range(nullptr);
    give_data_to_container_root(paths, spec.range);
  }
  prepare_agent(ctx, paths, spec, result.notes);
  prepare_skills(ctx, paths, spec, result.notes);
  make_private_dir(paths.root_mountpoint());
  spec.launcher_pid = ::getpid();
  RunState state = launch_supervisor(spec);
  verify_limits(state);
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
  ContainerPaths paths = paths_for(ctx);
  ExecPlan plan;
  ProjectContext effective;
  std::optional<net::CredentialKind> gateway_kind;
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
    if (state.credential_kind == "api_key") gateway_kind = net::CredentialKind::api_key;
    if (state.credential_kind == "oauth_token") gateway_kind = net::CredentialKind::oauth_token;
    for (const auto& dir : state.cgroup_dirs) {
      if (is_container_cgroup(dir, paths.key)) plan.cgroup_dirs.push_back(dir);
    }
    if (auto record = read_created(paths)) check_identity(ctx, paths, *record);
    effective.config = load_effective_config(paths, ctx.config.name);
    const bool refuse_suid = effective.config.storage.type == config::StorageType::bind;
    plan.hardening = make_hardening_plan(paths.seccomp_cache(refuse_suid), refuse_suid);
    plan.hardening.rlimits = plan_rlimits(effective.config.resources);
  }
  effective.project_dir = ctx.project_dir;
  plan.argv = req.argv.empty() ? login_shell_argv() : req.argv;
  plan.env = container_environment(effective, req, req.tty, gateway_kind);
  plan.path_dirs = container_path_dirs();
  plan.workdir = req.workdir.value_or("/workspace");
  plan.tty = req.tty;
  return run_exec(plan);
}

void NativeEngine::stop(const ProjectContext& ctx, const StopOptions& opts) {
  ContainerPaths paths = paths_for(ctx);
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
  ContainerPaths paths = paths_for(ctx);
  Status status;
  status.engine = "native";
  std::error_code ec;
  bool created = path_exists(paths.created_marker());
  if (!created && !path_exists(paths.state_dir)) return status;  // not created, nothing to look at
  if (created) {
    try {
      if (auto record = read_created(paths)) check_identity(ctx, paths, *record);
    } catch (const Error& e) {
      status.notes.push_back(e.what());
    }
  }
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
    if (auto oom = read_private_file(oom_record(paths.state_dir), 4096)) {
      status.notes.push_back("in its last run, " + oom->substr(0, oom->find('\n')));
    }
    if (created) {
      RootfsPlan rootfs = plan_rootfs(paths, ctx.project_dir, ctx.config.storage.type, relax_git(ctx.config));
      size_tmpfs_mounts(rootfs, ctx.config.resources);
      status.mounts = rootfs.described;
    }
    return status;
  }
  RunState state = *found.state;
  verify_limits(state);
  status.state = ContainerState::running;
  status.pid = state.init_pid;
  status.supervisor_pid = state.supervisor_pid;
  status.started_at = state.started_at;
  status.mounts = state.mounts;
  status.limits = state.limits;
  status.network_mode = state.network_mode;
  status.gateway_kind = state.credential_kind;
  status.gateway_origin = state.credential_origin;
  for (const auto& note : state.notes) status.notes.push_back(note);
  const std::string memory_dir = memory_cgroup_of(state.cgroup_dirs);
  if (auto kills = read_oom_kills(memory_dir); kills && *kills > 0) {
    std::string limit;
    for (const auto& l : state.limits) limit = l.name == "memory" ? l.value : limit;
    status.notes.push_back("since start, " + oom_sentence(*kills, limit, memory_dir));
  }
  auto reply = control_call(paths.state_dir, {{"op", "status"}}, 2000);
  if (reply && reply->contains("denied") && (*reply)["denied"].is_number_unsigned()) {
    status.network_denials = (*reply)["denied"].get<std::uint64_t>();
  } else if (path_exists(paths.audit_log())) {
    status.network_denials = net::count_denials(paths.audit_log());
    status.notes.push_back("the supervisor did not answer; network denials counted from the audit log");
  }
  return status;
}

void NativeEngine::destroy(const ProjectContext& ctx) {
  ContainerPaths paths = paths_for(ctx);
  {
    StateLock lock(paths, StateLock::Mode::exclusive);
    Inspection found = inspect(paths);
    if (found.running) stop_running(paths, *found.state, std::chrono::seconds(5));
    else if (found.stale && found.state) clean_stale_state(paths, *found.state);
    workspace::remove_tree(paths.data_dir);
    // Under the lock: a start waiting for it finds its lock file removed and takes a new one
    // (StateLock); removed after the lock is released, a start could already run here.
    workspace::remove_tree(paths.state_dir);
  }
}

int NativeEngine::logs(const ProjectContext& ctx, const LogOptions& opts) {
  ContainerPaths paths = paths_for(ctx);
  if (!path_exists(paths.created_marker()) && !path_exists(paths.log_file())) {
    throw not_set_up_error("the container " + ctx.config.name + " has not been created; there are no logs yet.");
  }
  if (opts.network) {
    net::print_audit_log(paths.audit_log(), opts.follow, std::cout);
    std::cout.flush();
    return 0;
  }
  UniqueFd fd(::open(paths.log_file().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
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
  ContainerPaths paths = paths_for(ctx);
  if (!supervisor_alive(paths)) return;  // read again at the next start
  {
    // Only the lists `allow`/`deny` change, in the stored copy the supervisor reads.
    StateLock lock(paths, StateLock::Mode::exclusive);
    config::Config effective = load_effective_config(paths, ctx.config.name);
    effective.network.allow = ctx.config.network.allow;
    effective.network.deny = ctx.config.network.deny;
    store_effective_config(paths, effective);
  }
  auto reply = control_call(paths.state_dir, {{"op", "reload"}}, 10000);
  if (!reply) throw Error("the container's supervisor did not answer the policy reload; try `claude-container restart`.");
  if (!reply_flag(*reply, "ok")) {
    auto error = reply->find("error");
    std::string why = error != reply->end() && error->is_string() ? error->get<std::string>() : "no reason given";
    throw Error("the running container could not reload its network policy: " + why);
  }
}

void NativeEngine::with_workspace(const ProjectContext& ctx, bool require_stopped,
                                  const std::function<void(const workspace::WorkspaceLayout&, bool running)>& action) {
  ContainerPaths paths = paths_for(ctx);
  auto layout = workspace_layout_for(ctx, paths);
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
