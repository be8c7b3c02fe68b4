#pragma once
// Running a command inside a running container: join its namespaces through a pidfd
// (setns), fork into its pid namespace, harden like every process inside, exec. Without a tty
// the command gets our stdin/stdout/stderr themselves (binary-exact, no copying); with a tty a
// pty is opened inside the container's devpts, the caller's terminal goes raw and we relay,
// forwarding window-size changes.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/native/hardening.hpp"

namespace cc::engine::native {

struct ExecPlan {
  pid_t init_pid = -1;
  std::uint64_t init_start_time = 0;
  bool own_netns = true;
  std::vector<std::string> cgroup_dirs;
  std::vector<std::string> argv;       // argv[0] is searched in path_dirs unless it has a '/'
  std::vector<std::string> env;        // "KEY=VALUE"
  std::vector<std::string> path_dirs;  // the container's PATH
  std::string workdir = "/workspace";
  bool tty = false;
  HardeningPlan hardening;
};

// Returns the command's exit status (128+N when killed by signal N; 127 not found; 126 not
// executable). Throws cc::Error when the container cannot be entered.
int run_exec(const ExecPlan& plan);

}  // namespace cc::engine::native
