#pragma once
// Makes the host's Claude Code runnable as `claude` inside the `host` image. An installation in
// the host's system directories is already visible (they are mounted read-only); one in a home
// directory (a user npm prefix, the native installer) gets its own directory, and nothing of
// the home around it, mounted read-only at kAgentInstallDir. A `claude` in kAgentBinDir (on
// the container's PATH) points at it when no PATH directory inside has one already.
#include <string>
#include <vector>

#include "engine/native/rootfs.hpp"
#include "integrations/agent_install.hpp"

namespace cc::engine::native {

inline constexpr const char* kAgentDir = "/run/claude-code";
inline constexpr const char* kAgentInstallDir = "/run/claude-code/install";
inline constexpr const char* kAgentBinDir = "/run/claude-code/bin";

// Appends the steps to `plan` (after its /run tmpfs). `subordinate_ids`: the container runs as
// a subordinate id (the root engine), for which the files must be readable and executable by
// others; a note says how to fix it when they are not. Returns notes for the user.
std::vector<std::string> plan_agent_mount(RootfsPlan& plan, const integrations::AgentInstall& install,
                                          bool subordinate_ids);

}  // namespace cc::engine::native
