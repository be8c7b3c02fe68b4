#pragma once
// Git inside the container (DESIGN.md section 7), the same for every engine:
//  - identity: git.name / git.email in a generated system-level git config that the container
//    reads through GIT_CONFIG_SYSTEM, mounted read-only. It includes the image's /etc/gitconfig
//    first, and ~/.gitconfig and each repository's config still override it;
//  - "pat": that config names a credential helper (a generated sh script using curl) for
//    https://<git.host> only; the helper asks the supervisor over a unix socket in the same
//    read-only directory, and the supervisor answers with the token, which it took from the
//    host's environment at start and keeps in memory (git_broker.hpp). No file or variable
//    inside holds the token;
//  - "ssh": SSH_AUTH_SOCK inside names a socket in that directory which the supervisor relays
//    to the host's ssh-agent; no key file is mounted. The network policy opens <git.host>:22.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/container_env.hpp"

namespace cc::integrations {

// The directory inside (a read-only bind of the container's git directory in its state dir).
inline constexpr const char* kGitDirInside = "/run/claude-container-git";
inline constexpr const char* kGitConfigName = "gitconfig";
inline constexpr const char* kGitHelperName = "credential-helper";
inline constexpr const char* kGitCredentialSocketName = "credential.sock";
inline constexpr const char* kGitAgentSocketName = "ssh-agent.sock";

// What the host side needs for git.credentials, looked up at start.
struct GitHostCredentials {
  std::string token;          // "pat": the token (kept only in the supervisor's memory)
  std::string token_variable; // "pat": which host variable it came from
  std::string agent_socket;   // "ssh": the host's SSH_AUTH_SOCK
};

// The host variables a PAT is read from, in order.
const std::vector<std::string>& git_token_variables();

// Looks up the token or agent for git.credentials. Throws cc::Error (exit 1) naming what is
// missing and how to provide it; "none" needs nothing.
GitHostCredentials find_git_credentials(const config::Config& config, const config::EnvLookup& lookup);

// The generated files: the git config (identity, helper) and the helper script.
std::string git_config_text(const config::Config& config);
std::string git_helper_script();

// Creates <dir> (0755, so the container's root can read it as root's subordinate id too) and
// writes the config and helper script into it temp+rename. Removes stale sockets there.
void write_git_files(const std::filesystem::path& dir, const config::Config& config);

// The variables every process inside gets: GIT_CONFIG_SYSTEM, and for "ssh" SSH_AUTH_SOCK and
// (under isolated/development, when the image has OpenBSD netcat) GIT_SSH_COMMAND with a
// ProxyCommand through the egress proxy.
std::map<std::string, std::string> git_environment(const config::Config& config);

// The network allow entries git.credentials needs: "<host>:22" for "ssh", nothing otherwise.
std::vector<std::string> git_network_entries(const config::Config& config);
// The config's network section with those entries added to `allow` (deny still wins): what the
// egress proxy enforces.
config::Network network_with_git(const config::Config& config);

// What status shows about git: never a value, only where it comes from and whether it is there.
struct GitStatus {
  std::string identity;         // "Ada <ada@example.com>", or "" when neither is set
  std::string mode;             // none | pat | ssh
  std::string host;             // git.host
  bool secret_found = false;    // pat: a token variable is set; ssh: the agent answers
  std::string source;           // pat: "GH_TOKEN"...; ssh: "SSH_AUTH_SOCK"; "" when not found
};
GitStatus git_status(const config::Config& config, const config::EnvLookup& lookup);

// For status: "pat (token from the host's GH_TOKEN)" / "ssh (agent socket found)" / ..., never values.
std::string describe_git_credentials(const config::Config& config, const config::EnvLookup& lookup);

// The host name of git.host without its port ("github.com:8443" -> "github.com").
std::string git_host_name(const std::string& host);

}  // namespace cc::integrations
