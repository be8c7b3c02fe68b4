#pragma once
// Where a container's files live on the host. Runtime state (pids, sockets, lock, logs) goes
// under $XDG_RUNTIME_DIR, else $XDG_STATE_HOME, else ~/.local/state; persistent data (home,
// volume workspace, overlay layers) under $XDG_DATA_HOME, else ~/.local/share.
#include <filesystem>
#include <string>

namespace cc::engine::native {

struct ContainerPaths {
  std::filesystem::path state_dir;  // .../claude-container/<name>
  std::filesystem::path data_dir;   // .../claude-container/<name>

  std::filesystem::path lock_file() const { return state_dir / "lock"; }
  std::filesystem::path alive_lock() const { return state_dir / "supervisor.lock"; }
  std::filesystem::path state_file() const { return state_dir / "state.json"; }
  std::filesystem::path control_socket() const { return state_dir / "control.sock"; }
  std::filesystem::path log_file() const { return state_dir / "container.log"; }
  std::filesystem::path audit_log() const { return state_dir / "network.jsonl"; }
  // The compiled seccomp program; kept across stop/start (it depends only on this binary).
  std::filesystem::path seccomp_cache() const { return state_dir / ("seccomp-" + seccomp_key() + ".bpf"); }
  static std::string seccomp_key();  // changes whenever the filter's definition changes
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

// Paths for the container `name` of the invoking user.
ContainerPaths container_paths(const std::string& name);

// The invoking user's home directory ($HOME, else the password database).
std::filesystem::path user_home();

}  // namespace cc::engine::native
