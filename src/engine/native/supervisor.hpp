#pragma once
// The per-container supervisor (DESIGN.md section 5): a detached process in its own session,
// with stdio on the container log, that creates the sandbox, runs the egress proxy on a
// thread, answers the control socket, stops the container on request and cleans up after
// pid 1 exits. It holds supervisor.lock for its whole life, so a crash is detectable.
#include <filesystem>

#include "config/config.hpp"
#include "engine/native/id_mapping.hpp"
#include "engine/native/paths.hpp"
#include "engine/native/sandbox.hpp"
#include "engine/native/state_dir.hpp"

namespace cc::engine::native {

struct SupervisorSpec {
  ContainerPaths paths;
  std::filesystem::path project_dir;
  config::Config config;
  SandboxPlan sandbox;            // cgroup_dirs are filled in by the supervisor
  std::vector<std::string> notes; // carried into the state (degraded features)
  SubordinateRange range;         // as root: the container's ids on the host
};

// Caller side: forks the detached supervisor and waits until the container runs. Returns the
// state the supervisor recorded. Throws cc::Error with the supervisor's explanation.
RunState launch_supervisor(const SupervisorSpec& spec);

}  // namespace cc::engine::native
