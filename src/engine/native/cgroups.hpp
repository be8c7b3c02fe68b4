#pragma once
// Resource limits (memory, pids, cpus) through cgroups: a delegated cgroup v2 subtree where
// one is writable, else cgroup v1 controllers (normally only as root). Whatever cannot be set
// is reported with the reason, never silently skipped.
#include <sys/types.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"

namespace cc::engine::native {

struct CgroupSetup {
  std::vector<std::string> dirs;     // cgroup directories the container's processes join
  std::vector<LimitStatus> limits;   // memory, pids, cpus: enforced or why not
};

// Creates the container's cgroup(s) named after its key and writes the limits. Never throws:
// failures become LimitStatus entries with enforced=false.
CgroupSetup create_cgroups(const std::string& name, const config::Resources& resources);

// Moves `pid` (0 = the caller) into every directory. Returns an empty string or the failure.
std::string join_cgroups(const std::vector<std::string>& dirs, pid_t pid);

// True when `dir` is a cgroup directory this container's key names (under /sys/fs/cgroup, last
// component claude-container-<key>, no ".."): only such paths are joined or removed, whatever
// a state file says.
bool is_container_cgroup(const std::string& dir, const std::string& key);

// Removes a cgroup directory (it must be empty of processes); ignores one already gone.
void remove_cgroup_dir(const std::string& dir);

}  // namespace cc::engine::native
