#pragma once
// The environment of processes inside the native engine's container: built from scratch, a
// sane PATH, HOME and USER (the host's system directories are the image), then what every
// engine sets (engine/session_environment.hpp).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "net/credential_gateway.hpp"

namespace cc::engine::native {

inline const std::vector<std::string>& container_path_dirs() {
  // First: the `claude` of the Claude Code installation found on the host, when the system
  // directories do not already run that one (agent_mount.hpp); absent otherwise.
  static const std::vector<std::string> dirs = {"/run/claude-code/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                                "/usr/bin",             "/sbin",           "/bin"};
  return dirs;
}

// `gateway_kind`: what the running container's credential gateway adds (its run state).
// Throws cc::Error (usage) when env_file cannot be read or has a malformed line, and cc::Error
// when credentials.api "shared" finds no credential to pass in.
std::vector<std::string> container_environment(const ProjectContext& ctx, const ExecRequest& req, bool tty,
                                               std::optional<net::CredentialKind> gateway_kind);

// The login shell: bash if the image has it, else sh.
std::vector<std::string> login_shell_argv();

}  // namespace cc::engine::native
