#pragma once
// Where Claude Code is installed on the host, found without running any host program: the
// `claude` on the host's PATH, a user npm prefix (NPM_CONFIG_PREFIX, `prefix=` in ~/.npmrc,
// ~/.npm-global), the native installer (~/.local/bin/claude -> ~/.local/share/claude/versions/V)
// and the system npm prefixes (/usr/local, /usr). The engine makes the result visible inside
// read-only: the directory `install_dir` only, never the home around it.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/container_env.hpp"

namespace cc::integrations {

struct AgentInstall {
  std::filesystem::path executable;   // the real file (symlinks resolved): bin/claude.exe, versions/V, ...
  std::filesystem::path install_dir;  // the directory to make visible; holds `executable`
  std::string version;                // "2.1.197", or "" when nothing says
  std::string found_via;              // "the host PATH", "the npm prefix /usr", "the native installer (~/.local)"
};

// The first installation found, in the order above: what the user's own PATH runs wins, then
// the user's installs over the system's. The home is `env`'s HOME, else the password
// database's entry for us. `system_prefixes`: the npm prefixes of the system, looked at last.
std::optional<AgentInstall> find_claude_code(const config::EnvLookup& env,
                                             const std::vector<std::filesystem::path>& system_prefixes = {"/usr/local",
                                                                                                          "/usr"});

// The sentence `claude`, `status` and `doctor` show when nothing is found.
std::string claude_code_install_hint();

// "Claude Code 2.1.197 (/usr/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe, via ...)"
std::string describe(const AgentInstall& install);

}  // namespace cc::integrations
