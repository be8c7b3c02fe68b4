#pragma once
// Claude Code's first-run state in the container's home, so an interactive session opens at
// its prompt: .claude.json with onboarding done, the workspace trusted and (with the gateway)
// the placeholder key approved; settings.json accepting bypass mode with agent.skip_permissions.
//
// Done on the host, before the sandbox starts, rather than by a step inside: the container may
// have no JSON tool, and with nothing running inside there is nobody to race. The home was
// written by the sandbox before, so it is hostile: everything is opened beneath it with no
// link followed, reads are bounded, and files are replaced by temp + rename, owned by the
// container's user on the host. What is there is merged into, never dropped: with `separate`
// the user's own login lives in the same directory.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::integrations {

// The largest .claude.json or settings.json read; a bigger one is left alone with a warning.
inline constexpr std::size_t kMaxAgentStateFile = 8 * 1024 * 1024;

// `home` is the host directory mounted at /root; `uid`/`gid` the container user's ids on the
// host (rootless: ours; as root: the subordinate range's first). Returns warnings for the
// user (a malformed file moved aside, an oversized one left alone). Throws cc::Error only when
// the home itself cannot be opened or written.
// `shared_api_key`: with credentials.api "shared", the API key passed in, approved as Claude
// Code remembers approvals (its last 20 characters), since the container has all of it anyway.
std::vector<std::string> prepare_agent_home(const std::filesystem::path& home, const config::Config& config, uid_t uid,
                                            gid_t gid, const std::string& shared_api_key = "");

}  // namespace cc::integrations
