// shell, exec, run, claude: programs run inside the container; their exit status is ours.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "cli/command_actions.hpp"
#include "config/container_env.hpp"
#include "integrations/agent_environment.hpp"
#include "integrations/agent_install.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

// A pty inside only when we sit on a terminal both ways; pipes and files stay byte-exact.
bool attached_to_terminal() { return is_terminal(STDIN_FILENO) && is_terminal(STDOUT_FILENO); }

std::vector<std::string> require_inner_command(const std::string& command) {
  const auto& words = pass_through_args().words;
  if (words.empty()) {
    throw usage_error(command + " needs a command to run: claude-container " + command +
                      " [--] CMD [ARGS...]. Run `claude-container " + command + " --help` for its usage.");
  }
  return words;
}

}  // namespace

int shell_command(const GlobalOptions& options) {
  Console console(options);
  auto session = open_trusted_session(options, "shell");
  ensure_running(session, console);
  engine::ExecRequest request;
  request.tty = attached_to_terminal();
  return session.engine->exec(session.ctx, request);
}

namespace {

int exec_command(const GlobalOptions& options) {
  auto argv = require_inner_command("exec");
  auto session = open_trusted_session(options, "exec");
  require_running(session, "exec");
  engine::ExecRequest request;
  request.argv = std::move(argv);
  request.tty = attached_to_terminal();
  return session.engine->exec(session.ctx, request);
}

// Stops the container when the one-shot run ends, however it ends.
class StopWhenDone {
 public:
  StopWhenDone(EngineSession& session, bool active) : session_(session), active_(active) {}
  ~StopWhenDone() {
    if (!active_) return;
    try {
      session_.engine->stop(session_.ctx, engine::StopOptions{});
    } catch (const std::exception& error) {
      std::fprintf(stderr, "claude-container: stopping %s after run failed: %s\n", session_.ctx.config.name.c_str(),
                   error.what());
    }
  }
  StopWhenDone(const StopWhenDone&) = delete;
  StopWhenDone& operator=(const StopWhenDone&) = delete;

 private:
  EngineSession& session_;
  bool active_;
};

int run_command(const GlobalOptions& options) {
  Console console(options);
  auto argv = require_inner_command("run");
  auto session = open_trusted_session(options, "run");
  // A container the user already had running stays running; one we started, we stop.
  bool started_here = ensure_running(session, console);
  StopWhenDone stop_guard(session, started_here);
  engine::ExecRequest request;
  request.argv = std::move(argv);
  request.tty = attached_to_terminal();
  return session.engine->exec(session.ctx, request);
}

// The agent in /workspace, on a pty when we sit on a terminal, else on plain pipes so that
// `claude -p "..."` works in scripts and CI. Its environment (CLAUDE_CONFIG_DIR, IS_SANDBOX,
// ...) comes with every process inside (integrations/agent_environment.hpp).
int claude_command(const GlobalOptions& options) {
  Console console(options);
  auto session = open_trusted_session(options, "claude");
  const auto& config = session.ctx.config;
  auto argv = integrations::agent_argv(config, pass_through_args().words);
  if (argv.empty()) {
    throw usage_error("claude failed: agent.command in " + (session.ctx.project_dir / ".claude-container/config.json").string() +
                      " is empty. Set it to the agent's command, for example \"claude\".");
  }
  // Another agent is looked up inside as it is; Claude Code comes from the host.
  if (integrations::agent_is_claude_code(config) && !integrations::find_claude_code(config::host_environment())) {
    throw Error("claude failed: " + integrations::claude_code_install_hint() + ".");
  }
  ensure_running(session, console);
  engine::ExecRequest request;
  request.argv = std::move(argv);
  request.tty = attached_to_terminal();
  request.workdir = "/workspace";
  return session.engine->exec(session.ctx, request);
}

}  // namespace

void add_exec_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  // The inner command line is split off before parsing (app.cpp); these positionals exist
  // so that help, completion and the man page show it.
  auto documented_words = std::make_shared<std::vector<std::string>>();

  auto* shell = app.add_subcommand("shell", "open an interactive login shell in the workspace (starts the container)");
  table[shell] = [&options] { return shell_command(options); };

  auto* exec = app.add_subcommand("exec", "run one command inside the running container; its exit status is returned");
  exec->add_option("CMD", *documented_words, "the command and its arguments (put -- before it if it starts with -)")
      ->type_name("");
  exec->footer("Usage: claude-container exec [--] CMD [ARGS...]");
  table[exec] = [&options, documented_words] { return exec_command(options); };

  auto* run = app.add_subcommand("run", "one-shot: start, run one command, stop (for CI and scripts)");
  run->add_option("CMD", *documented_words, "the command and its arguments (put -- before it if it starts with -)")
      ->type_name("");
  run->footer("Usage: claude-container run [--] CMD [ARGS...]");
  table[run] = [&options, documented_words] { return run_command(options); };

  auto* claude = app.add_subcommand("claude",
                                    "run the agent (agent.command, Claude Code by default) in /workspace; a pty on a "
                                    "terminal, pipes otherwise; starts the container");
  claude->add_option("ARGS", *documented_words, "arguments passed to the agent unchanged")->type_name("");
  claude->footer("Usage: claude-container claude [ARGS...]");
  table[claude] = [&options, documented_words] { return claude_command(options); };
}

}  // namespace cc::cli
