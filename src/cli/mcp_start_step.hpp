#pragma once
// The step `start` runs inside once the container is up: register the chosen MCP servers in
// the container's Claude Code configuration when they changed since the last time.
#include "cli/cli_context.hpp"

namespace cc::cli {

// Runs setup-mcp.sh --if-changed inside, rendered from the approved config (not the project's
// copy, which a repository may have altered); its output goes to a log in the container's
// Claude Code directory. A failure is a warning naming that log: the container still runs.
void register_mcp_servers_inside(EngineSession& session, const Console& console);

}  // namespace cc::cli
