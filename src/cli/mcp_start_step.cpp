#include "cli/mcp_start_step.hpp"

#include "integrations/mcp_setup.hpp"
#include "project/container_layout.hpp"
#include "project/templates/templates.hpp"

namespace cc::cli {

void register_mcp_servers_inside(EngineSession& session, const Console& console) {
  const auto& config = session.ctx.config;
  if (!integrations::mcp_runs_inside(config)) return;
  // The script's output goes to a log inside, not to this command's stdout (JSON there).
  const std::string wrapper =
      "log=\"${CLAUDE_CONFIG_DIR:-$HOME}/.claude-container-mcp.log\"\n"
      "exec /bin/sh -c \"$1\" setup-mcp.sh --if-changed </dev/null >\"$log\" 2>&1";
  engine::ExecRequest request;
  request.argv = {"/bin/sh", "-c", wrapper, "sh", project::render_setup_mcp_script(config)};
  const int status = session.engine->exec(session.ctx, request);
  if (status != 0)
    console.note("warning: registering the MCP servers inside failed (exit " + std::to_string(status) +
                 "); the container runs without them. See why with `claude-container exec -- " +
                 std::string(project::kWorkspaceDir) + "/" + project::kSetupMcpScript + "`.");
}

}  // namespace cc::cli
