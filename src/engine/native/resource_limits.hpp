#pragma once
// The bounds that hold without any cgroup: rlimits on every process inside, sizes on the
// container's tmpfs mounts, and the check that a cgroup limit really applies to pid 1.
//
// rlimits (set on pid 1 and on every exec'd process, inherited by their children):
//  - RLIMIT_NPROC = resources.pids. Since Linux 5.14 the kernel counts it per uid *within the
//    user namespace* (ucounts): the container's root, and each other uid inside, may have that
//    many processes (threads count) in this container; the invoking user's processes outside
//    do not count. (Older kernels count every process of the host uid the container's root maps
//    to: rootless, the user's own processes outside too.) The container's root holds no
//    capability of the host's namespace, so it cannot raise or escape it.
//  - RLIMIT_NOFILE = 65536 descriptors per process (or the host's hard limit, if lower).
//  - RLIMIT_FSIZE = 4 x resources.memory per file: a runaway writer gets SIGXFSZ/EFBIG before
//    one file fills the host's disk (many files are bounded by the disk only).
//  - RLIMIT_CORE = 0: no core dumps with secrets from memory in the workspace.
// Memory has no rlimit bound: RLIMIT_AS would break runtimes that reserve large address
// ranges (V8, Go, the JVM) and is per process anyway. Without a memory cgroup the container's
// memory is not bounded, and status says so; only its tmpfs mounts are.
//
// tmpfs sizes (their pages are memory; with a memory cgroup they count against it too):
// /tmp memory/2, /var (with /var/tmp) memory/4, /dev/shm memory/4, /run min(memory/8, 64m).
#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"

namespace cc::engine::native {

struct RootfsPlan;

// RLIM_INFINITY means "not set": the process keeps what it inherited.
struct RlimitPlan {
  rlim_t nproc = RLIM_INFINITY;
  rlim_t nofile = RLIM_INFINITY;
  rlim_t fsize = RLIM_INFINITY;
};

RlimitPlan plan_rlimits(const config::Resources& resources);

// Child side: sets RLIMIT_CORE, NPROC, NOFILE and FSIZE. Returns 0 or an errno with a static
// description in *what. noexcept, allocation-free.
int apply_rlimits(const RlimitPlan& plan, const char** what) noexcept;

// For `status`: one line per rlimit.
std::vector<LimitStatus> rlimit_status(const RlimitPlan& plan);

struct TmpfsSize {
  const char* target;      // inside
  std::uint64_t bytes;
};
std::vector<TmpfsSize> tmpfs_sizes(const config::Resources& resources);

// Adds size= to the plan's tmpfs mounts of /tmp, /var, /dev/shm and /run, and says so in its
// mount descriptions.
void size_tmpfs_mounts(RootfsPlan& plan, const config::Resources& resources);
std::vector<LimitStatus> tmpfs_status(const config::Resources& resources);

// A cgroup limit is enforced only while pid 1 is in that cgroup: compares /proc/<pid>/cgroup
// with the directories the limits were written in, and turns each "cgroup v1/v2" entry whose
// cgroup pid 1 is not in into enforced=false with the reason. `proc_cgroup` is the text of
// /proc/<pid>/cgroup as read by the caller.
void verify_cgroup_limits(const std::string& proc_cgroup, const std::vector<std::string>& dirs,
                          std::vector<LimitStatus>& limits);

}  // namespace cc::engine::native
