#pragma once
// The container's root filesystem for the `host` image, as a list of mount steps computed in
// the supervisor (allocating, may throw) and executed in the sandbox child (noexcept):
// the host's system directories read-only with secrets masked, fresh /proc (the entries runc
// masks hidden, the kernel's tunables read-only), a minimal /dev,
// tmpfs /tmp /run /var, the persistent home at /root and the workspace at /workspace. Then
// pivot_root, so nothing of the host outside these mounts is reachable.
#include <sys/types.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "engine/native/paths.hpp"
#include "util/unique_fd.hpp"

namespace cc::engine::native {

struct MountStep {
  enum class Kind { bind_ro, bind_rw, dev_node, tmpfs, proc, devpts, mask_file, mask_dir, overlay, symlink, mkdir, make_ro,
                    protect, attach, detach, bind_beneath, mask_proc };  // new kinds go last: supervisor_spec_io.cpp
                                                                       // bounds the kinds a spec may name by it
  Kind kind;
  std::string source;       // host path (bind, overlay lower), symlink target, or mount data
  std::string target;       // absolute, below the new root
  std::string upper, work;  // overlay
  mode_t mode = 0755;       // mkdir
  std::string relative;     // protect: the control path, relative to `target` (the workspace);
                            // bind_beneath: the mount point, relative to `target`, no link followed
                            // (skills_mount.hpp; mode 0755 for a directory, 0644 for a file)
  bool idmapped = false;    // attach: `source` is mounted idmapped to its owner (as root)
  int fd = -1;              // attach: the detached mount the supervisor prepared
  bool read_only = false;   // attach
  bool host_ids = false;    // bind: the source is opened with the host's ids (plan_private_fds)
};

// Targets are relative to the new root ("./usr"): the child mounts the root tmpfs on the
// mountpoint descriptor `root_fd` and works from inside it. Sources in the state or data
// directories become /proc/self/fd/N (plan_private_fds): the child opens them as descriptor N
// while it still has its host ids, since the container's root (as root on the host, a
// subordinate id) may not traverse those 0700 directories.
struct PrivateOpen {
  std::string path;
  int fd;
  bool directory = true;  // false: a file (a shared CLAUDE.md), opened without following a link
};

struct RootfsPlan {
  std::string new_root;     // host directory the root tmpfs is mounted on
  int root_fd = -1;         // descriptor number of new_root in the child
  std::vector<PrivateOpen> open_first;
  std::vector<MountStep> steps;
  std::vector<MountInfo> described;  // for `status`
};

// With `bind` storage the project's control files (project/control_files.hpp) that exist are
// mounted read-only over themselves, so a container cannot plant code the host runs (git
// hooks, scripts/container, editor tasks) or rewrite this tool's config; `relax_git` (the
// `development` mode) leaves the .git entries writable.
RootfsPlan plan_rootfs(const ContainerPaths& paths, const std::filesystem::path& project_dir,
                       config::StorageType storage, bool relax_git = false);

// Assigns descriptor numbers to new_root and to the sources below `private_dirs` (and those
// marked host_ids), rewriting
// those sources to /proc/self/fd/N.
void plan_private_fds(RootfsPlan& plan, const std::vector<std::string>& private_dirs);
// Child side, before it takes the container's ids: opens every PrivateOpen as its number.
int open_private_fds(const RootfsPlan& plan, const char** detail) noexcept;

// Child side: executes the plan, pivots into it and makes the root read-only. Returns 0 or an
// errno with *what and *detail describing the step.
int build_rootfs(const RootfsPlan& plan, const char** what, const char** detail) noexcept;

}  // namespace cc::engine::native
