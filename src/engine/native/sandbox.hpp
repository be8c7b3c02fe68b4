#pragma once
// Creating the container's process: clone3 with user, mount, pid, uts, ipc (and net)
// namespaces, id maps written from outside, cgroup placement, then the child builds its root
// filesystem, brings up loopback, opens the proxy (and gateway) listeners inside its network namespace and
// hands them back over SCM_RIGHTS, hardens itself and executes pid 1's own program (init.hpp,
// init_image.hpp).
//
// Id mapping. Rootless: the invoking uid/gid map to 0 inside (one id each, written by the
// parent; setgroups is denied as the kernel requires), so files the container writes in a
// bind mount belong to the user on the host, with no setuid helper (newuidmap) to spawn.
// As root: ids 0..65535 map to root's subordinate range (id_mapping.hpp), never to host uid
// 0, so host files that only root may read stay unreadable inside; the project is mounted
// idmapped so its owner's files are the container root's.
#include <sys/types.h>

#include <string>
#include <vector>

#include "engine/native/hardening.hpp"
#include "engine/native/rootfs.hpp"
#include "util/unique_fd.hpp"

namespace cc::engine::native {

struct SandboxPlan {
  RootfsPlan rootfs;
  HardeningPlan hardening;
  std::string hostname;
  bool own_netns = true;
  bool proxy_listeners = false;     // create the egress proxy's listeners inside
  bool gateway_listeners = false;   // create the credential gateway's listeners inside
  // Memory the child wipes first: until it executes pid 1's program it is a copy of the
  // supervisor, whose real credential must not be readable from inside meanwhile.
  char* wipe_data = nullptr;
  std::size_t wipe_size = 0;
  char* wipe_git_data = nullptr;    // likewise the git token (git.credentials "pat")
  std::size_t wipe_git_size = 0;
  std::string uid_map, gid_map;
  bool deny_setgroups = true;
  std::vector<std::string> cgroup_dirs;
  std::vector<int> keep_fds;        // detached mounts the child attaches, the init image (sorted)
  int init_image_fd = -1;           // the sealed memfd pid 1 executes (init_image.hpp)
};

// The id maps for the invoking user (see above). Returns a note when a range was allocated.
std::string plan_id_maps(SandboxPlan& plan);

struct Sandbox {
  pid_t pid = -1;                   // host pid of the container's pid 1
  UniqueFd pidfd;
  UniqueFd control;                 // our end of the setup socket; closing it ends pid 1
  std::vector<UniqueFd> listeners;  // proxy listeners, created inside the sandbox
  std::vector<UniqueFd> gateway_listeners;  // credential gateway listeners, likewise
  std::string cgroup_problem;       // empty, or why joining the cgroups failed
};

// Throws cc::Error explaining the failure (user namespaces disabled, mount refused, ...).
Sandbox spawn_sandbox(const SandboxPlan& plan);

// Why creating a user namespace failed, with the fix (sysctl, AppArmor).
std::string explain_userns_failure(int err);

}  // namespace cc::engine::native
