#pragma once
// Where a container's files live on the host, and who may have written them.
//
// Identity: a container is its name plus a short hash of the canonical project path (its
// key); state, data and cgroups are keyed by that, so a repository that reuses another
// project's name, or a second clone of one repository, gets a container of its own. The name
// is for display.
//
// Rootless: runtime state (pids, sockets, lock, logs) under $XDG_RUNTIME_DIR, else
// $XDG_STATE_HOME, else ~/.local/state; persistent data (home, volume workspace, overlay
// layers) under $XDG_DATA_HOME, else ~/.local/share. As root: /run/claude-container and
// /var/lib/claude-container, never the $XDG_* or $HOME that `sudo -E` or `su` leave pointing
// at a user's directories (whose owner could then plant a seccomp program or a pid to kill).
// Every directory on the way is checked: ours, and mode 0700.
#include <filesystem>
#include <optional>
#include <string>

namespace cc::engine::native {

struct ContainerPaths {
  std::string key;                  // <name>-<12 hex digits of sha256(canonical project path)>
  std::filesystem::path state_base; // .../claude-container
  std::filesystem::path data_base;  // .../claude-container
  std::filesystem::path state_dir;  // state_base/<key>
  std::filesystem::path data_dir;   // data_base/<key>

  std::filesystem::path lock_file() const { return state_dir / "lock"; }
  std::filesystem::path alive_lock() const { return state_dir / "supervisor.lock"; }
  std::filesystem::path state_file() const { return state_dir / "state.json"; }
  std::filesystem::path control_socket() const { return state_dir / "control.sock"; }
  std::filesystem::path log_file() const { return state_dir / "container.log"; }
  // In a directory of its own: the confined network service may write only there.
  std::filesystem::path audit_log() const { return state_dir / "network" / "network.jsonl"; }
  // The config the CLI validated at start (and `allow`/`deny` updated): what the supervisor
  // enforces and `reload` reads, never the project's file, which the container may rewrite.
  std::filesystem::path effective_config() const { return state_dir / "config.json"; }
  // The compiled seccomp program; kept across stop/start (it depends only on this binary).
  // `refuse_suid_modes`: the variant for bind storage (see build_seccomp_filter).
  std::filesystem::path seccomp_cache(bool refuse_suid_modes) const {
    return state_dir / ("seccomp-" + seccomp_key() + (refuse_suid_modes ? "-nosuid" : "") + ".bpf");
  }
  static std::string seccomp_key();  // a hash of the filter's rules (hardening.hpp describe_seccomp_rules)
  std::filesystem::path root_mountpoint() const { return state_dir / "root"; }

  std::filesystem::path created_marker() const { return data_dir / "created.json"; }
  std::filesystem::path home_dir() const { return data_dir / "home"; }
  std::filesystem::path volume_dir() const { return data_dir / "workspace"; }
  std::filesystem::path upper_dir() const { return data_dir / "upper"; }
  std::filesystem::path work_dir() const { return data_dir / "work"; }
  // Volume: the project as seeded (workspace/volume_changes). Apply's journal of temporary
  // names: persistent, so a power loss mid-apply is cleaned up too.
  std::filesystem::path seed_base() const { return data_dir / "seed-base"; }
  std::filesystem::path hybrid_base() const { return data_dir / "hybrid-base"; }
  std::filesystem::path apply_journal() const { return data_dir / "apply-journal"; }
};

// The canonical form of a project path (symlinks resolved where it exists).
std::filesystem::path canonical_project(const std::filesystem::path& project_dir);
// "<name>-<12 hex>" for the container `name` of the project at `project_dir`.
std::string container_key(const std::string& name, const std::filesystem::path& project_dir);

// Paths for the container `name` of the project at `project_dir`, for the invoking user.
ContainerPaths container_paths(const std::string& name, const std::filesystem::path& project_dir);

// Creates `dir` (mode 0700) when missing, else checks it: a real directory, not a symlink,
// owned by us, no access for group or others. Throws cc::Error naming the fix otherwise.
void ensure_private_dir(const std::filesystem::path& dir);
// The same checks on a directory that must already exist; false when it does not.
bool check_private_dir(const std::filesystem::path& dir);

// A state file we wrote: opened O_NOFOLLOW, a regular file owned by us and writable by nobody
// else, at most `max_bytes`. nullopt when absent; throws cc::Error when someone else could
// have written it (a seccomp program, a pid or a cgroup path must never come from there).
std::optional<std::string> read_private_file(const std::filesystem::path& file, std::size_t max_bytes = 4 << 20);

// The invoking user's home directory ($HOME, else the password database).
std::filesystem::path user_home();

}  // namespace cc::engine::native
