#pragma once
// The container's root filesystem for the `host` image, as a list of mount steps computed in
// the supervisor (allocating, may throw) and executed in the sandbox child (noexcept):
// the host's system directories read-only with secrets masked, fresh /proc, a minimal /dev,
// tmpfs /tmp /run /var, the persistent home at /root and the workspace at /workspace. Then
// pivot_root, so nothing of the host outside these mounts is reachable.
#include <sys/types.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/engine.hpp"
#include "engine/native/paths.hpp"

namespace cc::engine::native {

struct MountStep {
  enum class Kind { bind_ro, bind_rw, dev_node, tmpfs, proc, devpts, mask_file, mask_dir, overlay, symlink, mkdir, make_ro };
  Kind kind;
  std::string source;       // host path (bind, overlay lower), symlink target, or mount data
  std::string target;       // absolute, below the new root
  std::string upper, work;  // overlay
  mode_t mode = 0755;       // mkdir
};

struct RootfsPlan {
  std::string new_root;     // host directory the root tmpfs is mounted on
  std::vector<MountStep> steps;
  std::vector<MountInfo> described;  // for `status`
};

RootfsPlan plan_rootfs(const ContainerPaths& paths, const std::filesystem::path& project_dir,
                       config::StorageType storage);

// Child side: executes the plan, pivots into it and makes the root read-only. Returns 0 or an
// errno with *what and *detail describing the step.
int build_rootfs(const RootfsPlan& plan, const char** what, const char** detail) noexcept;

}  // namespace cc::engine::native
