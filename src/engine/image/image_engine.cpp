// The image engines' lifecycle (image_engine.hpp): each Engine method is a short sequence of
// CLI calls, in the dialect's words, under the container's state lock.
#include "engine/image/image_engine.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "config/approval.hpp"
#include "config/config_io.hpp"
#include "config/config_paths.hpp"
#include "config/container_env.hpp"
#include "engine/image/host_network.hpp"
#include "engine/session_environment.hpp"
#include "engine/native/state_dir.hpp"
#include "engine/native/workspace_layout_for.hpp"
#include "integrations/api_credential.hpp"
#include "integrations/git_setup.hpp"
#include "net/audit_log.hpp"
#include "project/container_layout.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "workspace/file_tree.hpp"
#include "workspace/hybrid_base.hpp"
#include "workspace/volume_changes.hpp"

namespace cc::engine::image {

namespace fs = std::filesystem;

namespace {

// Image and volume names: lower case letters, digits, '-', '_' and '.'.
std::string name_safe(const std::string& text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.') ? static_cast<char>(std::tolower(u)) : '-';
  }
  return out;
}

std::string first_line(const std::string& text) {
  std::string s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);  // the last line says what failed
}

// A CLI call that must succeed: throws its error sentence.
CliResult must(const CliRunner& runner, const std::vector<std::string>& args, const std::string& what,
               const std::map<std::string, std::string>& env = {}) {
  CliResult r = runner.capture(args, env);
  if (r.status != 0) {
    throw Error("cannot " + what + ": `" + describe_command(runner.program(), {args.begin(), args.begin() + std::min<std::size_t>(args.size(), 2)}) +
                "` failed (exit " + std::to_string(r.status) + "): " + first_line(r.err.empty() ? r.out : r.err) +
                "; run `claude-container doctor`.");
  }
  return r;
}

std::optional<ContainerInfo> find_container(const CliRunner& runner, const ContainerCli& cli, const std::string& name) {
  CliResult r = runner.capture(cli.inspect_args(name));
  auto info = cli.parse_inspect(r.out, r.status);
  if (!info && r.status != 0 && r.err.find("o such") == std::string::npos && r.err.find("not found") == std::string::npos) {
    throw Error("cannot ask " + cli.program() + " about the container " + name + ": " + first_line(r.err) +
                "; run `claude-container doctor`.");
  }
  return info;
}

// Never touch a container that carries another project's label (or none: not ours).
void check_owner(const ContainerInfo& info, const ImageNames& names, const fs::path& project_dir) {
  const std::string here = native::canonical_project(project_dir).string();
  auto it = info.labels.find(kProjectLabel);
  if (it == info.labels.end() || it->second != here) {
    throw Error("refused to use the container " + names.container + ": it was created " +
                (it == info.labels.end() ? std::string("by something else (it has no claude-container project label)")
                                         : "for the project " + it->second) +
                ", not " + here + "; remove it yourself if it is stale, or give this project another name in "
                ".claude-container/config.json.");
  }
}

std::string storage_name(const config::Config& c) { return config::to_string(c.storage.type); }

// The uid the image's user gets (Containerfile `ARG USER_UID`): the project's owner, so bind
// storage stays theirs on the host; 1000 when the owner is root (the image's user is never 0).
uid_t workspace_uid(const fs::path& project_dir) {
  struct stat st {};
  if (::stat(project_dir.c_str(), &st) == 0 && st.st_uid != 0) return st.st_uid;
  return 1000;
}

// Everything in our own copy belongs to the image's user (never following a link).
void give_to(const fs::path& dir, uid_t uid) {
  if (::geteuid() != 0) return;  // rootless: --userns=keep-id maps us to that uid already
  if (::lchown(dir.c_str(), uid, uid) != 0) throw_errno("cannot give " + dir.string() + " to uid " + std::to_string(uid));
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::none, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, uid) != 0) {
      throw_errno("cannot give " + it->path().string() + " to uid " + std::to_string(uid));
    }
  }
  if (ec) throw Error("cannot walk " + dir.string() + ": " + ec.message());
}


// What an image engine cannot do (yet) with this config, said before anything is created.
void refuse_unenforceable(const config::Config& cfg, const std::string& engine) {
  auto refuse = [&](const std::string& why) {
    throw usage_error("refused to start " + cfg.name + " on the " + engine + " engine: " + why + ".");
  };
  if (cfg.network.policy == config::NetworkPolicy::full && cfg.credentials.api == config::ApiCredentials::gateway) {
    refuse("credentials.api \"gateway\" relays the agent's API requests through a socket of the host side, which "
           "image engines run only with the container's network off (policies none, isolated, development); with "
           "\"full\" choose \"separate\" or \"shared\" in .claude-container/config.json");
  }
  if (cfg.git.credentials == config::GitCredentials::pat) {
    refuse("git.credentials \"pat\" needs the host-side token broker, which image engines do not run; use \"ssh\" "
           "(the host's ssh-agent) or \"engine\": \"native\"");
  }
}

struct CreatedRecord {
  std::string project_dir;
  std::string storage;
  std::string network;  // "none" (--network none, relays) or "engine" (full): fixed at creation
};

std::string network_kind(const config::Config& c) {
  return c.network.policy == config::NetworkPolicy::full ? "engine" : "none";
}

std::optional<CreatedRecord> read_created(const native::ContainerPaths& paths) {
  auto text = native::read_private_file(paths.created_marker(), 64 * 1024);
  if (!text) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(*text);
    return CreatedRecord{j.value("project_dir", ""), j.value("storage", ""), j.value("network", "")};
  } catch (const nlohmann::json::exception&) {
    throw Error("the container's creation record " + paths.created_marker().string() +
                " is damaged; run `claude-container destroy` and start again.");
  }
}

void check_record(const ProjectContext& ctx, const CreatedRecord& record) {
  const std::string storage = storage_name(ctx.config);
  if (!record.storage.empty() && record.storage != storage) {
    throw usage_error("the container " + ctx.config.name + " was created with " + record.storage +
                      " storage, and the config now says " + storage +
                      "; an existing container's storage cannot change. Set it back, or run `claude-container "
                      "destroy` and `claude-container start`.");
  }
  if (!record.network.empty() && record.network != network_kind(ctx.config)) {
    throw usage_error("the container " + ctx.config.name + " was created " +
                      (record.network == "engine" ? std::string("with the engine's network (policy full)")
                                                  : std::string("without a network of its own (policy none, isolated or "
                                                                "development)")) +
                      ", and the config's policy is now " + config::to_string(ctx.config.network.policy) +
                      ", which needs the other; set it back, or run `claude-container destroy` and `claude-container "
                      "start`.");
  }
}

// What the host side adds, recorded at start for exec and status (never the credential).
struct RunRecord {
  std::string gateway_kind;    // "api_key", "oauth_token", or empty
  std::string gateway_origin;
};

fs::path run_record_file(const native::ContainerPaths& paths) { return paths.state_dir / "run.json"; }

RunRecord read_run_record(const native::ContainerPaths& paths) {
  RunRecord r;
  auto text = native::read_private_file(run_record_file(paths), 64 * 1024);
  if (!text) return r;
  try {
    auto j = nlohmann::json::parse(*text);
    r.gateway_kind = j.value("gateway_kind", "");
    r.gateway_origin = j.value("gateway_origin", "");
  } catch (const nlohmann::json::exception&) {
  }
  return r;
}

std::optional<net::CredentialKind> gateway_kind_of(const RunRecord& r) {
  if (r.gateway_kind == "api_key") return net::CredentialKind::api_key;
  if (r.gateway_kind == "oauth_token") return net::CredentialKind::oauth_token;
  return std::nullopt;
}

// The host side's proxy and gateway (host_network.hpp), for every policy but `full`: started
// before the container, so its relays find the sockets. `none` without a gateway needs none.
bool needs_host_network(const config::Config& c) {
  return c.network.policy != config::NetworkPolicy::full &&
         (c.network.policy != config::NetworkPolicy::none || c.credentials.api == config::ApiCredentials::gateway);
}

constexpr std::size_t kMaxCaFileBytes = 1 << 20;

// credentials.api "gateway": the real credential and the extra CA, found before anything is
// created or started, so a start without them changes nothing. nullopt for other modes.
std::optional<net::NetworkServiceGateway> find_gateway(const ProjectContext& ctx, RunRecord& record) {
  if (ctx.config.credentials.api != config::ApiCredentials::gateway) return std::nullopt;
  auto found = integrations::find_api_credential(config::host_environment());
  if (!found) {
    throw Error(integrations::no_credential_sentence("cannot start " + ctx.config.name +
                                                     " with credentials.api \"gateway\""));
  }
  net::NetworkServiceGateway gateway;
  gateway.upstream = ctx.config.credentials.upstream;
  if (!ctx.config.credentials.ca_file.empty()) {
    auto pem = config::read_config_path(ctx.project_dir, "credentials.ca_file", ctx.config.credentials.ca_file,
                                        kMaxCaFileBytes);
    if (!pem) {
      throw usage_error("credentials.ca_file names " + ctx.config.credentials.ca_file +
                        ", which does not exist; fix the path in .claude-container/config.json or set it to \"\".");
    }
    gateway.extra_ca_pem = *pem;
  }
  gateway.credential = found->credential;
  record.gateway_kind = found->credential.kind == net::CredentialKind::api_key ? "api_key" : "oauth_token";
  record.gateway_origin = integrations::describe_origin(*found);
  return gateway;
}

// Starts the host side (find_gateway's result); records what exec and status need.
void start_network(const ProjectContext& ctx, const native::ContainerPaths& paths, const fs::path& program,
                   std::optional<net::NetworkServiceGateway> gateway, const RunRecord& record) {
  stop_host_network(paths.state_dir);  // what a killed one left
  // The socket directory is the container's mount source: it must exist at `run` and `start`,
  // also when no host side runs (`none`); stop and destroy remove it when it is the short alias.
  if (ctx.config.network.policy != config::NetworkPolicy::full) open_host_network_socket_dir(paths.state_dir);
  if (needs_host_network(ctx.config)) {
    HostNetworkSpec spec;
    spec.state_dir = paths.state_dir;
    spec.network = integrations::network_with_git(ctx.config);
    spec.program = program;
    spec.gateway = std::move(gateway);
    start_host_network(spec);
  }
  nlohmann::json j = {{"gateway_kind", record.gateway_kind}, {"gateway_origin", record.gateway_origin}};
  native::write_runtime_file(run_record_file(paths), j.dump() + "\n");
}

// The config the container was started with: exec uses it, never a file the container could
// have rewritten since (bind storage).
config::Config load_effective_config(const native::ContainerPaths& paths, const std::string& name) {
  auto text = native::read_private_file(paths.effective_config(), 1 << 20);
  if (!text) {
    throw Error("the container " + name + " has no stored configuration (" + paths.effective_config().string() +
                "); run `claude-container restart`.");
  }
  return config::parse_config(*text, paths.effective_config().string());
}

// Where the cgroup2 mount namespace is pinned (cli_runner.hpp): the state base, which is
// root's own /run/claude-container when it can be made at all.
std::optional<fs::path> namespace_file(const ContainerCli& cli) {
  if (!cli.needs_private_cgroup2()) return std::nullopt;
  native::ContainerPaths base = native::container_paths("engine", "/");
  native::ensure_private_dir(base.state_base);
  return base.state_base / (cli.engine_name() + "-cgroup2.mntns");
}

}  // namespace

ImageNames image_names(const std::string& name, const fs::path& project_dir) {
  ImageNames n;
  n.key = native::container_key(name, project_dir);
  const std::string safe = name_safe(n.key);
  n.container = "cc-" + safe;
  n.image = "localhost/claude-container-" + safe;
  n.home_volume = "cc-" + safe + "-home";
  n.workspace_volume = "cc-" + safe + "-workspace";
  return n;
}

native::ContainerPaths image_container_paths(const std::string& engine, const std::string& name,
                                             const fs::path& project_dir) {
  native::ContainerPaths p = native::container_paths(name, project_dir);
  p.state_dir = p.state_base / (p.key + "." + engine);
  p.data_dir = p.data_base / (p.key + "." + engine);
  return p;
}

ImageEngine::ImageEngine(std::unique_ptr<ContainerCli> cli) : cli_(std::move(cli)) {}

CliRunner ImageEngine::runner() const {
  auto program = find_program(cli_->program());
  if (!program) {
    throw Error("the " + cli_->engine_name() + " engine needs the `" + cli_->program() +
                "` command, which is not installed (not on PATH); install it (e.g. `apt install " +
                (cli_->program() == "docker" ? std::string("docker.io") : cli_->program()) +
                "`) or choose another engine in .claude-container/config.json.");
  }
  return CliRunner(*program, namespace_file(*cli_));
}

Preflight ImageEngine::preflight(const ProjectContext* /*ctx*/) {
  Preflight out;
  out.engine = name();
  auto program = find_program(cli_->program());
  if (!program) {
    out.checks.push_back({cli_->program(), CheckLevel::fail, "not installed (not on PATH)",
                          cli_->program() == "docker" ? "apt install docker.io" : "apt install " + cli_->program()});
    return out;
  }
  CliRunner run(*program, namespace_file(*cli_));
  try {
    CliResult v = run.capture(cli_->version_args(), {}, 64 * 1024);
    out.checks.push_back({cli_->program(), v.status == 0 ? CheckLevel::ok : CheckLevel::fail,
                          program->string() + ": " + first_line(v.status == 0 ? v.out : v.err),
                          v.status == 0 ? "" : "reinstall " + cli_->program()});
    CliResult info = run.capture(cli_->info_args(), {}, 1 << 20);
    out.checks.push_back({cli_->engine_name() + " answers", info.status == 0 ? CheckLevel::ok : CheckLevel::fail,
                          info.status == 0 ? "`" + describe_command(*program, cli_->info_args()) + "` works"
                                           : first_line(info.err),
                          info.status == 0 ? "" : "start the " + cli_->engine_name() + " service (or its machine)"});
  } catch (const Error& e) {
    out.checks.push_back({cli_->program(), CheckLevel::fail, e.what(), "run as root"});
  }
  for (auto& c : cli_->host_checks()) out.checks.push_back(std::move(c));
  return out;
}

StartResult ImageEngine::start(const ProjectContext& ctx) {
  const auto& cfg = ctx.config;
  refuse_unenforceable(cfg, name());
  CliRunner run = runner();
  const ImageNames names = image_names(cfg.name, ctx.project_dir);
  auto paths = image_container_paths(name(), cfg.name, ctx.project_dir);
  native::ensure_private_dir(paths.state_base);
  native::StateLock lock(paths, native::StateLock::Mode::exclusive);
  StartResult result;
  if (auto record = read_created(paths)) check_record(ctx, *record);

  if (auto info = find_container(run, *cli_, names.container)) {
    check_owner(*info, names, ctx.project_dir);
    if (info->running) {
      // A host side that died (killed, crashed) leaves the relays inside with nothing behind
      // them: start it again with the config the container runs with.
      if (path_exists(paths.effective_config())) {
        ProjectContext effective{ctx.project_dir, load_effective_config(paths, cfg.name)};
        if (needs_host_network(effective.config) && !host_network_status(paths.state_dir).running) {
          RunRecord record;
          auto gateway = find_gateway(effective, record);
          start_network(effective, paths, network_program_, std::move(gateway), record);
          result.notes.push_back("the network host side was not running; started it again");
        }
      }
      result.already_running = true;
      return result;
    }
    native::write_runtime_file(paths.effective_config(), config::serialize_config(cfg));
    if (cfg.storage.type == config::StorageType::hybrid) {
      workspace::record_hybrid_base(ctx.project_dir, paths.upper_dir(), paths.hybrid_base());
    }
    RunRecord record;
    auto gateway = find_gateway(ctx, record);
    start_network(ctx, paths, network_program_, std::move(gateway), record);
    try {
      must(run, cli_->start_args(names.container), "start the container " + names.container);
    } catch (...) {
      stop_host_network(paths.state_dir);
      remove_host_network_socket_dir(paths.state_dir);
      throw;
    }
  } else {
    result.created = true;
    // Everything that can refuse is checked before anything is made.
    RunRecord record;
    auto gateway = find_gateway(ctx, record);
    const uid_t uid = workspace_uid(ctx.project_dir);
    RunSpec spec;
    spec.name = names.container;
    spec.image = names.image;
    spec.hostname = cfg.name;
    spec.labels = {{kProjectLabel, native::canonical_project(ctx.project_dir).string()},
                   {kKeyLabel, names.key},
                   {kStorageLabel, storage_name(cfg)}};
    spec.workdir = project::kWorkspaceDir;
    spec.user = project::kContainerUser;
    spec.no_network = cfg.network.policy != config::NetworkPolicy::full;
    spec.cpus = cfg.resources.cpus;
    spec.memory = cfg.resources.memory;
    spec.pids = cfg.resources.pids;
    spec.cap_drop = {"ALL"};
    // pid 1 waits and ends on SIGTERM (`sleep` as pid 1 would ignore it and make every stop
    // wait for the grace period and SIGKILL).
    spec.command = {"/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"};
    if (spec.no_network) {
      // The relays inside forward the loopback ports HTTP(S)_PROXY and ANTHROPIC_BASE_URL name
      // to the host side's sockets; the socket directory is mounted whole, so a restarted host
      // side's new sockets are seen without recreating the container.
      spec.command = relay_entrypoint(spec.command, true, true);
      const fs::path sockets = host_network_socket_dir(paths.state_dir);
      spec.mounts.push_back({MountSpec::Kind::bind, sockets.string(), kContainerSocketDir, true, "", ""});
    }
    switch (cfg.storage.type) {
      case config::StorageType::bind:
        spec.mounts.push_back({MountSpec::Kind::bind, native::canonical_project(ctx.project_dir).string(),
                               project::kWorkspaceDir, false, "", ""});
        break;
      case config::StorageType::volume:
        spec.mounts.push_back({MountSpec::Kind::volume, names.workspace_volume, project::kWorkspaceDir, false, "", ""});
        break;
      case config::StorageType::hybrid:
        spec.mounts.push_back({MountSpec::Kind::overlay, native::canonical_project(ctx.project_dir).string(),
                               project::kWorkspaceDir, false, paths.upper_dir().string(), paths.work_dir().string()});
        break;
    }
    // The home (Claude Code lives there) on a volume that starts as the image's copy of it; where
    // a CLI's volumes start empty and root-owned (Apple), it stays in the container's own root
    // filesystem, which lives as long as the container does.
    if (cli_->volumes_start_with_image_content()) {
      spec.mounts.push_back({MountSpec::Kind::volume, names.home_volume, project::kContainerHome, false, "", ""});
    }
    const fs::path git_dir = paths.state_dir / "git";
    spec.mounts.push_back({MountSpec::Kind::bind, git_dir.string(), integrations::kGitDirInside, true, "", ""});
    integrations::GitHostCredentials git = integrations::find_git_credentials(cfg, config::host_environment());
    if (!git.agent_socket.empty()) {
      spec.sockets.push_back({git.agent_socket, std::string(integrations::kGitDirInside) + "/" +
                                                    integrations::kGitAgentSocketName});
    }
    std::string refusals;
    for (const auto& why : cli_->unsupported(spec)) refusals += (refusals.empty() ? "" : "; ") + why;
    if (!refusals.empty()) throw usage_error("refused to start " + cfg.name + " on the " + name() + " engine: " + refusals + ".");

    // The image: built when missing or when the Containerfile changed.
    auto containerfile = config::read_containerfile(ctx.project_dir, cfg);
    if (!containerfile) {
      throw usage_error("image.containerfile names " + cfg.image.containerfile +
                        ", which does not exist; run `claude-container init` to generate it, or fix the path in "
                        ".claude-container/config.json.");
    }
    // Its RUN steps run on this machine: build only the bytes this user approved (these bytes,
    // copied below, are what is built; the project's file is not read again).
    if (sha256_hex(*containerfile) != ctx.approved_containerfile_sha256) {
      throw usage_error("refused to build the image " + names.image + ": the content of " + cfg.image.containerfile +
                        " is not the one you approved (it changed after the approval was checked); review it, "
                        "then run `claude-container trust` to approve it.");
    }
    std::map<std::string, std::string> build_args{{"USER_UID", std::to_string(uid)}};
    std::string hash_input = *containerfile;
    for (const auto& [k, v] : build_args) hash_input += "\n" + k + "=" + v;
    const std::string hash = sha256_hex(hash_input);
    CliResult image = run.capture(cli_->image_inspect_args(names.image));
    auto labels = cli_->parse_image_inspect(image.out, image.status);
    if (!labels || labels->count(kContainerfileLabel) == 0 || labels->at(kContainerfileLabel) != hash) {
      const fs::path context = paths.state_dir / "build";
      workspace::remove_tree(context);
      native::ensure_private_dir(context);
      const fs::path copy = paths.state_dir / "Containerfile";
      write_file_atomic(copy, *containerfile, 0600);
      BuildSpec build{names.image, copy, context, {{kContainerfileLabel, hash}, {kProjectLabel,
                      native::canonical_project(ctx.project_dir).string()}}, build_args};
      const fs::path log = paths.state_dir / "build.log";
      const bool terminal = ::isatty(2) == 1;
      if (terminal) std::cerr << "Building the image " << names.image << " (log: " << log.string() << ")\n";
      std::string tail;
      int status = run.logged(cli_->build_args(build), log, terminal ? 2 : -1, &tail);
      workspace::remove_tree(context);
      if (status != 0) {
        throw Error("cannot build the image " + names.image + " from " + cfg.image.containerfile + ": " +
                    first_line(tail) + "; the whole build log is " + log.string() + ".");
      }
      result.notes.push_back(std::string(labels ? "rebuilt" : "built") + " the image " + names.image + " (log: " +
                             log.string() + ")");
    }

    // Storage and git files on the host, then the volumes, then the container. Data of a
    // container removed behind our back (its marker) is the user's work: kept and used again.
    native::ensure_private_dir(paths.data_base);
    const bool fresh = !read_created(paths);
    if (path_exists(paths.data_dir) && fresh) workspace::remove_tree(paths.data_dir);
    try {
      native::ensure_private_dir(paths.data_dir);
      integrations::write_git_files(git_dir, cfg);
      if (!git.agent_socket.empty()) write_file_atomic(git_dir / integrations::kGitAgentSocketName, "", 0644);
      std::map<std::string, std::string> volume_labels = spec.labels;
      if (cfg.storage.type == config::StorageType::volume && !path_exists(paths.volume_dir())) {
        fs::path partial = paths.data_dir / "workspace.partial";
        workspace::remove_tree(partial);
        workspace::copy_tree(ctx.project_dir, partial);
        workspace::record_seed_base(partial, paths.seed_base());
        give_to(partial, uid);
        std::error_code ec;
        fs::rename(partial, paths.volume_dir(), ec);
        if (ec) throw Error("cannot create the workspace volume " + paths.volume_dir().string() + ": " + ec.message());
      }
      if (cfg.storage.type == config::StorageType::hybrid) {
        // The overlay's root takes the upper directory's owner and mode: the image's user's, as
        // the project's own directory would be.
        native::ensure_private_dir(paths.work_dir());
        std::error_code ec;
        fs::create_directory(paths.upper_dir(), ec);
        if (ec) throw Error("cannot create " + paths.upper_dir().string() + ": " + ec.message());
        if (::chmod(paths.upper_dir().c_str(), 0755) != 0) throw_errno("cannot set the mode of " + paths.upper_dir().string());
        if (::geteuid() == 0 && ::lchown(paths.upper_dir().c_str(), uid, uid) != 0) {
          throw_errno("cannot give " + paths.upper_dir().string() + " to uid " + std::to_string(uid));
        }
        workspace::record_hybrid_base(ctx.project_dir, paths.upper_dir(), paths.hybrid_base());
      }
      auto create_volume = [&](const std::vector<std::string>& args, const std::string& volume) {
        CliResult r = run.capture(args);
        if (r.status != 0 && r.err.find("exists") == std::string::npos) {
          throw Error("cannot create the volume " + volume + ": " + first_line(r.err) + "; run `claude-container doctor`.");
        }
      };
      if (cli_->volumes_start_with_image_content()) {
        create_volume(cli_->volume_create_args(names.home_volume, volume_labels), names.home_volume);
      }
      if (cfg.storage.type == config::StorageType::volume) {
        auto bound = cli_->volume_create_bound_args(names.workspace_volume, volume_labels, paths.volume_dir());
        if (bound.empty()) {
          // The workspace mount by where it goes: the socket directory may come before it.
          for (auto& mount : spec.mounts) {
            if (mount.destination == project::kWorkspaceDir) {
              mount = {MountSpec::Kind::bind, paths.volume_dir().string(), project::kWorkspaceDir, false, "", ""};
            }
          }
        } else {
          create_volume(bound, names.workspace_volume);
        }
      }
      nlohmann::json marker = {{"created_at", static_cast<std::int64_t>(std::time(nullptr))},
                               {"storage", storage_name(cfg)},
                               {"project_dir", native::canonical_project(ctx.project_dir).string()},
                               {"name", cfg.name},
                               {"network", network_kind(cfg)},
                               {"engine", name()}};
      write_file_atomic(paths.created_marker(), marker.dump(2) + "\n", 0600);
      native::write_runtime_file(paths.effective_config(), config::serialize_config(cfg));
      start_network(ctx, paths, network_program_, std::move(gateway), record);
      must(run, cli_->run_args(spec), "run the container " + names.container, spec.env);
    } catch (...) {
      // No container: what this start made may not stay, or `destroy` (which sees no
      // container) could never remove it.
      stop_host_network(paths.state_dir);
      remove_host_network_socket_dir(paths.state_dir);
      if (fresh) {
        for (const auto& volume : {names.home_volume, names.workspace_volume}) run.capture(cli_->volume_remove_args(volume));
        workspace::remove_tree(paths.data_dir);
      }
      throw;
    }
  }
  if (auto reason = cli_->limits_unavailable_reason(); !reason.empty()) {
    result.notes.push_back("resource limits not enforced (cpus, memory, pids): " + reason);
  }
  return result;
}

int ImageEngine::exec(const ProjectContext& ctx, const ExecRequest& req) {
  CliRunner run = runner();
  const ImageNames names = image_names(ctx.config.name, ctx.project_dir);
  auto paths = image_container_paths(name(), ctx.config.name, ctx.project_dir);
  ProjectContext effective;
  RunRecord record;
  {
    native::StateLock lock(paths, native::StateLock::Mode::shared);
    auto info = find_container(run, *cli_, names.container);
    if (!info) {
      throw not_set_up_error("the container " + ctx.config.name + " has not been created; run `claude-container start`.");
    }
    record = read_run_record(paths);
    check_owner(*info, names, ctx.project_dir);
    if (!info->running) {
      throw Error("the container " + ctx.config.name + " is not running; start it with `claude-container start`.");
    }
    effective.config = load_effective_config(paths, ctx.config.name);
  }
  effective.project_dir = ctx.project_dir;
  ExecRequest with_env = req;
  with_env.extra_env = session_environment(effective, req, req.tty, gateway_kind_of(record));
  if (!with_env.workdir) with_env.workdir = project::kWorkspaceDir;
  return run.pass_through(cli_->exec_args(names.container, with_env, project::kContainerUser), with_env.extra_env);
}

void ImageEngine::stop(const ProjectContext& ctx, const StopOptions& opts) {
  CliRunner run = runner();
  const ImageNames names = image_names(ctx.config.name, ctx.project_dir);
  auto paths = image_container_paths(name(), ctx.config.name, ctx.project_dir);
  native::StateLock lock(paths, native::StateLock::Mode::exclusive);
  auto info = find_container(run, *cli_, names.container);
  if (!info) return;
  check_owner(*info, names, ctx.project_dir);
  if (info->running) must(run, cli_->stop_args(names.container, opts.grace), "stop the container " + names.container);
  stop_host_network(paths.state_dir);
  remove_host_network_socket_dir(paths.state_dir);  // the short alias outside the state directory; start makes it again
}

Status ImageEngine::status(const ProjectContext& ctx) {
  Status status;
  status.engine = name();
  CliRunner run = runner();
  const ImageNames names = image_names(ctx.config.name, ctx.project_dir);
  auto info = find_container(run, *cli_, names.container);
  if (!info) return status;
  try {
    check_owner(*info, names, ctx.project_dir);
  } catch (const Error& e) {
    status.notes.push_back(e.what());
    return status;  // another project's container: not ours to describe
  }
  status.state = info->running ? ContainerState::running : ContainerState::stopped;
  if (info->running) {
    status.pid = info->pid;
    status.started_at = info->started_at;
  }
  const auto& cfg = ctx.config;
  auto paths = image_container_paths(name(), cfg.name, ctx.project_dir);
  status.network_mode = cfg.network.policy == config::NetworkPolicy::full
                            ? name() + " network"
                            : (needs_host_network(cfg) ? "no network; proxy and gateway on host sockets, relayed inside"
                                                       : "no network (--network none)");
  if (info->running && needs_host_network(cfg)) {
    HostNetworkStatus net = host_network_status(paths.state_dir);
    if (net.stats) status.network_denials = net.stats->denied;
    if (!net.running || !net.detail.empty()) {
      status.notes.push_back("the network host side is not running" + (net.detail.empty() ? "" : ": " + net.detail) +
                             "; nothing inside reaches out until `claude-container restart`");
    }
    RunRecord record = read_run_record(paths);
    status.gateway_kind = record.gateway_kind;
    status.gateway_origin = record.gateway_origin;
  }
  status.mounts.push_back({project::kWorkspaceDir,
                           cfg.storage.type == config::StorageType::volume
                               ? "volume " + names.workspace_volume
                               : (cfg.storage.type == config::StorageType::bind ? ctx.project_dir.string()
                                                                                : ctx.project_dir.string() + " (overlay)"),
                           false});
  status.mounts.push_back({project::kContainerHome,
                           cli_->volumes_start_with_image_content() ? "volume " + names.home_volume
                                                                    : std::string("the container's root filesystem"),
                           false});
  const std::string reason = cli_->limits_unavailable_reason();
  status.limits.push_back({"cpus", std::to_string(cfg.resources.cpus), reason.empty(), reason.empty() ? "--cpus" : reason});
  status.limits.push_back({"memory", cfg.resources.memory_text, reason.empty(), reason.empty() ? "--memory" : reason});
  status.limits.push_back({"pids", std::to_string(cfg.resources.pids), reason.empty(), reason.empty() ? "--pids-limit" : reason});
  status.limits.push_back({"capabilities", "none", true, "--cap-drop ALL"});
  status.limits.push_back({"no_new_privs", "on", true, "--security-opt no-new-privileges"});
  return status;
}

void ImageEngine::destroy(const ProjectContext& ctx) {
  CliRunner run = runner();
  const ImageNames names = image_names(ctx.config.name, ctx.project_dir);
  auto paths = image_container_paths(name(), ctx.config.name, ctx.project_dir);
  {
    native::ensure_private_dir(paths.state_base);
    native::StateLock lock(paths, native::StateLock::Mode::exclusive);
    if (auto info = find_container(run, *cli_, names.container)) {
      check_owner(*info, names, ctx.project_dir);
      must(run, cli_->remove_args(names.container), "remove the container " + names.container);
    }
    stop_host_network(paths.state_dir);
    remove_host_network_socket_dir(paths.state_dir);
    // Volumes: only ours, by name and by label.
    for (const auto& volume : {names.home_volume, names.workspace_volume}) {
      CliResult r = run.capture(cli_->volume_remove_args(volume));
      (void)r;  // absent is fine; `must` would name a failure no one can act on
    }
    workspace::remove_tree(paths.data_dir);
  }
  workspace::remove_tree(paths.state_dir);
}

bool ImageEngine::remove_image(const ProjectContext& ctx) {
  CliRunner run = runner();
  const ImageNames names = image_names(ctx.config.name, ctx.project_dir);
  CliResult image = run.capture(cli_->image_inspect_args(names.image));
  auto labels = cli_->parse_image_inspect(image.out, image.status);
  if (!labels) return false;
  auto it = labels->find(kProjectLabel);
  if (it == labels->end() || it->second != native::canonical_project(ctx.project_dir).string()) {
    throw Error("refused to remove the image " + names.image + ": it was not built for this project.");
  }
  must(run, cli_->image_remove_args(names.image), "remove the image " + names.image);
  return true;
}

int ImageEngine::logs(const ProjectContext& ctx, const LogOptions& opts) {
  CliRunner run = runner();
  const ImageNames names = image_names(ctx.config.name, ctx.project_dir);
  auto info = find_container(run, *cli_, names.container);
  if (!info) throw not_set_up_error("the container " + ctx.config.name + " has not been created; there are no logs yet.");
  check_owner(*info, names, ctx.project_dir);
  if (opts.network) {
    auto paths = image_container_paths(name(), ctx.config.name, ctx.project_dir);
    net::print_audit_log(paths.audit_log(), opts.follow, std::cout);
    std::cout.flush();
    return 0;
  }
  return run.pass_through(cli_->logs_args(names.container, opts.follow));
}

void ImageEngine::reload_network_policy(const ProjectContext& ctx) {
  auto paths = image_container_paths(name(), ctx.config.name, ctx.project_dir);
  if (!path_exists(paths.effective_config())) return;  // read again at the next start
  native::StateLock lock(paths, native::StateLock::Mode::exclusive);
  config::Config effective = load_effective_config(paths, ctx.config.name);
  effective.network.allow = ctx.config.network.allow;
  effective.network.deny = ctx.config.network.deny;
  native::write_runtime_file(paths.effective_config(), config::serialize_config(effective));
  if (needs_host_network(effective) && host_network_status(paths.state_dir).running) {
    reload_host_network(paths.state_dir, integrations::network_with_git(effective));
  }
}

void ImageEngine::with_workspace(const ProjectContext& ctx, bool require_stopped,
                                 const std::function<void(const workspace::WorkspaceLayout&, bool running)>& action) {
  auto paths = image_container_paths(name(), ctx.config.name, ctx.project_dir);
  const workspace::WorkspaceLayout layout = native::workspace_layout_for(ctx, paths);
  CliRunner run = runner();
  const ImageNames names = image_names(ctx.config.name, ctx.project_dir);
  native::StateLock lock(paths, require_stopped ? native::StateLock::Mode::exclusive : native::StateLock::Mode::shared);
  auto info = find_container(run, *cli_, names.container);
  if (info) check_owner(*info, names, ctx.project_dir);
  const bool running = info && info->running;
  if (require_stopped && running) {
    throw Error("the container " + ctx.config.name +
                " is running, so its workspace can still change; stop it first (`claude-container stop`), then run this "
                "again.");
  }
  action(layout, running);
}

}  // namespace cc::engine::image
