#pragma once
// The environment of processes inside the container. Built from scratch: a sane PATH, HOME,
// USER, the terminal type and locale of the caller, the proxy variables when the egress proxy
// runs, then `env_file` and config `env` (config::container_env: ${VAR} from the caller's environment).
// Nothing else of the host's environment goes in: no tokens, no SSH_AUTH_SOCK, no DISPLAY.
#include <map>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace cc::engine::native {

inline const std::vector<std::string>& container_path_dirs() {
  // First: the `claude` of the Claude Code installation found on the host, when the system
  // directories do not already run that one (agent_mount.hpp); absent otherwise.
  static const std::vector<std::string> dirs = {"/run/claude-code/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                                "/usr/bin",             "/sbin",           "/bin"};
  return dirs;
}

// Throws cc::Error (usage) when env_file cannot be read or has a malformed line.
std::vector<std::string> container_environment(const ProjectContext& ctx, const ExecRequest& req, bool tty);

// The login shell: bash if the image has it, else sh.
std::vector<std::string> login_shell_argv();

}  // namespace cc::engine::native
