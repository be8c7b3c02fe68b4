#pragma once
// A container's runtime state directory: the lifecycle lock, the record of a running
// container (state.json), and the detection of stale state left by a supervisor that died
// (SIGKILL, crash, reboot).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/native/paths.hpp"
#include "util/unique_fd.hpp"

namespace cc::engine::native {

// What the supervisor records once the container runs; read by status/exec/stop.
struct RunState {
  pid_t supervisor_pid = 0;
  pid_t init_pid = 0;                 // container pid 1, host pid
  std::uint64_t init_start_time = 0;  // /proc/<pid>/stat field 22, guards against pid reuse
  std::int64_t started_at = 0;        // unix seconds
  std::string boot_id;
  std::string project_dir;
  bool own_netns = true;
  std::string network_mode;
  std::vector<std::string> cgroup_dirs;  // cgroup directories to join on exec and remove on stop
  std::vector<MountInfo> mounts;
  std::vector<LimitStatus> limits;
  std::vector<std::string> notes;
  // credentials.api "gateway": which kind the gateway adds ("api_key", "oauth_token") and where
  // it came from ("the host's ANTHROPIC_API_KEY"); never the value. Empty otherwise.
  std::string credential_kind;
  std::string credential_origin;
};

std::string serialize_run_state(const RunState& state);
RunState parse_run_state(const std::string& text);

// flock on the lifecycle lock file; released when destroyed. The holder of the exclusive lock
// may remove the state directory, lock file included (destroy): a waiter then locks the new
// file, never the removed one.
class StateLock {
 public:
  enum class Mode { shared, exclusive };
  StateLock(const ContainerPaths& paths, Mode mode);  // creates the state dir; blocks
 private:
  UniqueFd fd_;
};

// The state directory as found: a live supervisor, nothing, or stale remains.
struct Inspection {
  bool running = false;
  std::optional<RunState> state;  // when running (or stale, for cleanup)
  bool stale = false;             // state.json present but its supervisor is gone
};

// True while a supervisor holds its lifetime lock (so pid reuse and reboots cannot fool us).
bool supervisor_alive(const ContainerPaths& paths);
Inspection inspect(const ContainerPaths& paths);

// Removes what a dead supervisor left (kills a surviving pid 1, removes cgroups, pid files,
// sockets). Returns a sentence describing what was found. Caller holds the exclusive lock.
std::string clean_stale_state(const ContainerPaths& paths, const RunState& state);

// Writes a runtime file atomically (temporary file + rename) without fsync: runtime state does
// not outlive a reboot, and a torn state is detected as stale anyway.
void write_runtime_file(const std::filesystem::path& path, const std::string& content);

std::string current_boot_id();
std::uint64_t process_start_time(pid_t pid);  // 0 when the process does not exist

}  // namespace cc::engine::native
