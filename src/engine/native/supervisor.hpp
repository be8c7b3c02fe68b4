#pragma once
// The per-container supervisor (DESIGN.md section 5): this binary re-executed with the internal
// verb `__supervisor` (never a fork of the CLI), a detached process in its own session, with
// stdio on the container log, that creates the sandbox, starts the egress proxy and the
// credential gateway in their confined process (net/network_service.hpp), answers the control
// socket, stops the container on request and cleans up after pid 1 exits. It holds
// supervisor.lock for its whole life, so a crash is detectable.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "engine/native/id_mapping.hpp"
#include "engine/native/paths.hpp"
#include "engine/native/sandbox.hpp"
#include "engine/native/state_dir.hpp"
#include "integrations/git_setup.hpp"
#include "net/credential_gateway.hpp"

namespace cc::engine::native {

struct SupervisorSpec {
  ContainerPaths paths;
  std::filesystem::path project_dir;
  config::Config config;
  SandboxPlan sandbox;            // cgroup_dirs are filled in by the supervisor
  std::vector<std::string> notes; // carried into the state (degraded features)
  SubordinateRange range;         // as root: the container's ids on the host
  // credentials.api "gateway": the real credential, which lives only in the supervisor's
  // memory (never in a file, the run state or the sandbox), where it came from, and the text
  // of credentials.ca_file (empty: none).
  std::optional<net::UpstreamCredential> gateway_credential;
  std::string gateway_origin;
  std::string gateway_ca_pem;
  // git.credentials: the PAT (supervisor memory only) or the host's agent socket (git_setup.hpp).
  integrations::GitHostCredentials git;
  // CLOCK_MONOTONIC (ns) when launch_supervisor began, for the start-up timings in the log.
  std::int64_t launched_ns = 0;
  // The CLI that starts the supervisor: on cgroup v2 it leaves its cgroup for the supervisor's
  // leaf too when it sits in the same one (cgroups.hpp). 0: none.
  pid_t launcher_pid = 0;
};

// Caller side: starts the detached supervisor (this binary re-executed with the internal verb
// below, the spec sent over a socketpair) and waits until the container runs. Returns the
// state the supervisor recorded. Throws cc::Error with the supervisor's explanation.
RunState launch_supervisor(const SupervisorSpec& spec);

inline constexpr const char* kSupervisorVerb = "__supervisor";

// The internal verb's entry point (called from main before the CLI is built); never returns.
// Reads the spec from descriptor 4 and reports readiness on descriptor 3 (launch_supervisor).
[[noreturn]] void supervisor_main(int argc, char** argv);

}  // namespace cc::engine::native
