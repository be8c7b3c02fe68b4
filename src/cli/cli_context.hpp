#pragma once
// What every command shares: the global options, where output goes (text or JSON, quiet,
// colour), and how the project and its configuration are found.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "engine/engine.hpp"

namespace CLI {
class App;
}

namespace cc::cli {

struct GlobalOptions {
  std::string project;  // --project DIR; empty: discover
  bool json = false;
  bool quiet = false;
};

// Text and JSON output that honours --quiet, --json, NO_COLOR and non-TTY streams.
class Console {
 public:
  explicit Console(const GlobalOptions& options) : options_(options) {}

  bool json() const { return options_.json; }
  bool quiet() const { return options_.quiet; }

  // A line of normal output on stdout; dropped under --quiet and --json.
  void say(const std::string& line) const;
  // A note about what happened on the side (repairs, warnings); stderr, dropped under --quiet.
  void note(const std::string& line) const;
  // The one JSON object a command prints under --json.
  void print_json(const nlohmann::json& object) const;
  // Whether this process printed its JSON object already (errors then add none).
  static bool json_printed();

  // Colour helpers; return the text unchanged when colour is off for that stream.
  std::string bold(const std::string& text, int fd = 1) const;
  std::string green(const std::string& text, int fd = 1) const;
  std::string yellow(const std::string& text, int fd = 1) const;
  std::string red(const std::string& text, int fd = 1) const;

 private:
  std::string paint(const std::string& text, const char* code, int fd) const;
  const GlobalOptions& options_;
};

// True when colour may be written to fd: a TTY, NO_COLOR unset, TERM not "dumb".
bool colour_allowed(int fd);
bool is_terminal(int fd);

// The directory `init` works on: --project, else the nearest set-up ancestor, else the
// current directory.
std::filesystem::path project_dir_for_init(const GlobalOptions& options);

// The project root: --project, else discovery (config::find_project_root: only through
// directories this user owns); nullopt when not set up.
std::optional<std::filesystem::path> discover_project_root(const GlobalOptions& options);
// "no claude-container project here: ... Run `claude-container init` ..."
std::string not_set_up_sentence(const GlobalOptions& options);

// The set-up project the command acts on, for commands that only manage the container (stop,
// status, destroy, logs, diff, ...): its config is the one this user approved when the
// project's file is new, changed or broken (see config_trust.hpp). Throws cc::Error
// (not_set_up, exit 3) saying how to set one up when there is none.
engine::ProjectContext require_project(const GlobalOptions& options);

// Like require_project but returns nullopt instead of throwing when not set up (status,
// doctor). A malformed config with no approved copy still throws (exit 2).
std::optional<engine::ProjectContext> find_project(const GlobalOptions& options);

// A set-up project together with the engine its configuration chooses.
struct EngineSession {
  engine::ProjectContext ctx;
  std::unique_ptr<engine::Engine> engine;
};
// For managing commands (require_project).
EngineSession open_engine_session(const GlobalOptions& options);
// For commands that run code inside (start, restart, shell, claude, run, exec): only an
// approved config, see require_trusted_project.
EngineSession open_trusted_session(const GlobalOptions& options, const std::string& command);

// Starts the container unless it runs; prints the engine's notes. Returns true when this
// call started it (so one-shot commands know to stop it again).
bool ensure_running(EngineSession& session, const Console& console);
// Throws not_set_up (exit 3) unless the container is running, saying how to start it.
void require_running(EngineSession& session, const std::string& command);

// Subcommand -> what it does. Commands run after parsing succeeded for the whole line.
using CommandHandler = std::function<int()>;
using CommandTable = std::map<const CLI::App*, CommandHandler>;

// Each command group adds its subcommands to the app and its handlers to the table.
void add_setup_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_lifecycle_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_exec_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_network_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_workspace_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_skills_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_credentials_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_doctor_command(CLI::App& app, CommandTable& table, const GlobalOptions& options);
void add_docs_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options);

// Commands whose trailing words are the inner command line (exec, run, claude): the parser
// never sees those words; app.cpp splits them off and stores them here.
struct PassThroughArgs {
  std::vector<std::string> words;
};
PassThroughArgs& pass_through_args();

}  // namespace cc::cli
