#pragma once
// Resource limits (memory, pids, cpus) through cgroups: a delegated cgroup v2 subtree where
// one is writable, else cgroup v1 controllers (normally only as root). Whatever cannot be set
// is reported with the reason, never silently skipped.
//
// cgroup v2 layout (as crun and podman arrange it): the kernel lets a non-root cgroup that
// holds processes hand no controller to its children (the no-internal-process rule, EBUSY). So
// the supervisor first moves itself (and the CLI that launched it, when it sits in the same
// cgroup) out of its cgroup D into a leaf, then enables the controllers:
//   D/claude-container-<key>/supervisor   the supervisor (and, briefly, the launching CLI)
//   D/claude-container-<key>/container    pid 1 and every exec'd process; the limits live here
// When D still holds other processes (the shell that ran claude-container) the kernel refuses,
// the processes are moved back, and the reason says how to start in a cgroup of its own.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"

namespace cc::engine::native {

struct CgroupSetup {
  std::vector<std::string> dirs;     // cgroup directories the container's processes join
  std::vector<LimitStatus> limits;   // memory, pids, cpus: enforced or why not
  std::string memory_dir;            // the cgroup whose memory controller bounds the container, or ""
  bool memory_v2 = false;            // memory_dir is a cgroup v2 directory (else v1)
};

// Creates the container's cgroup(s) named after its key and writes the limits. `movers` are
// the processes that leave their cgroup for the v2 supervisor leaf (the caller first). Never
// throws: failures become LimitStatus entries with enforced=false.
CgroupSetup create_cgroups(const std::string& key, const config::Resources& resources,
                           const std::vector<pid_t>& movers);

// The cgroup v2 step alone, for a hierarchy mounted at `mount` whose cgroup `own` (a path as in
// /proc/self/cgroup, "/..." ) holds `movers`: builds the layout above and enables those of
// `controllers` that `own` offers. Tests drive it against a real cgroup2 mount.
struct V2Placement {
  std::string container_dir;          // D/claude-container-<key>/container, or "" on failure
  std::vector<std::string> enabled;   // controllers usable in container_dir
  std::string why_not;                // for the controllers asked for and not enabled
};
V2Placement place_in_v2_leaf(const std::filesystem::path& mount, const std::string& own, const std::string& key,
                             const std::vector<std::string>& controllers, const std::vector<pid_t>& movers);

// The text of a cgroup or /proc file, "" when it cannot be read (absent, or below a directory
// this user may not enter): never throws. Bounded to 1 MiB.
std::string read_cgroup_file(const std::filesystem::path& file);

// True when the space-separated list (cgroup.controllers, cgroup.subtree_control) or the
// comma-separated one (/proc/<pid>/cgroup) holds exactly `token`: "cpu" is not "cpuset".
bool has_token(std::string_view list, std::string_view token);

// Moves `pid` (0 = the caller) into every directory. Returns an empty string or the failure.
std::string join_cgroups(const std::vector<std::string>& dirs, pid_t pid);

// True when `dir` is a cgroup directory this container's key names (under /sys/fs/cgroup, last
// component claude-container-<key>, or claude-container-<key>/container on cgroup v2; no
// ".."): only such paths are joined or removed, whatever a state file says.
bool is_container_cgroup(const std::string& dir, const std::string& key);

// Removes a cgroup directory (it must be empty of processes); ignores one already gone. For a
// v2 container leaf also the supervisor leaf and their parent, once empty.
void remove_cgroup_dir(const std::string& dir);

}  // namespace cc::engine::native
