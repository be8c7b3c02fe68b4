#include "cli/cli_context.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/config_trust.hpp"
#include "cli/mcp_start_step.hpp"
#include "config/config_io.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace fs = std::filesystem;

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

bool colour_allowed(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return is_terminal(fd);
}

void Console::say(const std::string& line) const {
  if (options_.quiet || options_.json) return;
  std::cout << line << '\n' << std::flush;
}

void Console::note(const std::string& line) const {
  if (options_.quiet) return;
  std::cerr << line << '\n' << std::flush;
}

namespace {
bool g_json_printed = false;
}

bool Console::json_printed() { return g_json_printed; }

void Console::print_json(const nlohmann::json& object) const {
  // --json is for machines: it is printed even under --quiet.
  g_json_printed = true;
  std::cout << object.dump(2) << '\n' << std::flush;
}

std::string Console::paint(const std::string& text, const char* code, int fd) const {
  if (!colour_allowed(fd)) return text;
  return std::string("\x1b[") + code + "m" + text + "\x1b[0m";
}

std::string Console::bold(const std::string& text, int fd) const { return paint(text, "1", fd); }
std::string Console::green(const std::string& text, int fd) const { return paint(text, "32", fd); }
std::string Console::yellow(const std::string& text, int fd) const { return paint(text, "33", fd); }
std::string Console::red(const std::string& text, int fd) const { return paint(text, "31", fd); }

namespace {

fs::path absolute_project_flag(const std::string& flag) {
  std::error_code ec;
  fs::path dir = fs::absolute(flag, ec);
  if (ec) throw usage_error("cannot use --project " + flag + ": " + ec.message() + ". Pass an existing directory.");
  if (!fs::is_directory(dir, ec)) {
    throw usage_error("cannot use --project " + flag + ": it is not a directory. Pass an existing project directory.");
  }
  return fs::weakly_canonical(dir);
}

}  // namespace

std::optional<fs::path> discover_project_root(const GlobalOptions& options) {
  if (!options.project.empty()) {
    fs::path dir = absolute_project_flag(options.project);
    if (fs::exists(dir / config::kConfigFile)) return dir;
    return std::nullopt;
  }
  return config::find_project_root(fs::current_path());
}

std::string not_set_up_sentence(const GlobalOptions& options) {
  std::string where = options.project.empty() ? "this directory or any parent" : options.project;
  return "no claude-container project here: " + where + " has no " + std::string(config::kConfigFile) +
         ". Run `claude-container init` in the project directory to set one up.";
}

fs::path project_dir_for_init(const GlobalOptions& options) {
  if (!options.project.empty()) return absolute_project_flag(options.project);
  if (auto root = config::find_project_root(fs::current_path())) return *root;
  return fs::current_path();
}

std::optional<engine::ProjectContext> find_project(const GlobalOptions& options) {
  return find_managed_project(options, Console(options));
}

engine::ProjectContext require_project(const GlobalOptions& options) {
  auto ctx = find_project(options);
  if (!ctx) throw not_set_up_error(not_set_up_sentence(options));
  return std::move(*ctx);
}

EngineSession open_engine_session(const GlobalOptions& options) {
  EngineSession session;
  session.ctx = require_project(options);
  session.engine = engine::make_engine(session.ctx.config);
  return session;
}

EngineSession open_trusted_session(const GlobalOptions& options, const std::string& command) {
  EngineSession session;
  session.ctx = require_trusted_project(options, command);
  session.engine = engine::make_engine(session.ctx.config);
  return session;
}

bool ensure_running(EngineSession& session, const Console& console) {
  auto status = session.engine->status(session.ctx);
  if (status.state == engine::ContainerState::running) return false;
  auto result = session.engine->start(session.ctx);
  for (const auto& note : result.notes) console.note(note);
  if (result.already_running) return false;
  register_mcp_servers_inside(session, console);
  console.note(std::string(result.created ? "Created and started " : "Started ") + session.ctx.config.name + ".");
  return true;
}

void require_running(EngineSession& session, const std::string& command) {
  auto status = session.engine->status(session.ctx);
  const std::string& name = session.ctx.config.name;
  switch (status.state) {
    case engine::ContainerState::running:
      return;
    case engine::ContainerState::stopped:
      throw not_set_up_error(command + " failed: container " + name +
                             " is stopped. Run `claude-container start` first.");
    case engine::ContainerState::not_created:
      throw not_set_up_error(command + " failed: container " + name +
                             " is not created. Run `claude-container start` to create it.");
  }
}

PassThroughArgs& pass_through_args() {
  static PassThroughArgs args;
  return args;
}

}  // namespace cc::cli
