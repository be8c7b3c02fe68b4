// start, stop, restart, status, destroy, logs: the container's life cycle.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "cli/command_actions.hpp"
#include "cli/mcp_start_step.hpp"
#include "cli/status_report.hpp"
#include "config/approval.hpp"
#include "config/config_io.hpp"
#include "project/project_files.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

int start_command(const GlobalOptions& options) {
  Console console(options);
  auto session = open_trusted_session(options, "start");
  auto result = session.engine->start(session.ctx);
  for (const auto& note : result.notes) console.note(note);
  register_mcp_servers_inside(session, console);
  const std::string& name = session.ctx.config.name;
  if (console.json()) {
    console.print_json({{"name", name},
                        {"state", "running"},
                        {"already_running", result.already_running},
                        {"created", result.created},
                        {"notes", result.notes}});
  } else if (result.already_running) {
    console.say(name + " is already running.");
  } else {
    console.say((result.created ? "Created and started " : "Started ") + name + ".");
  }
  return 0;
}

// stop and restart: refuses a container that was never created, stops a running one within
// the grace period, and says whether it was running.
bool stop_if_running(EngineSession& session, const std::string& command, int timeout_seconds,
                     const std::string& when_not_created) {
  auto before = session.engine->status(session.ctx);
  if (before.state == engine::ContainerState::not_created) {
    throw not_set_up_error(command + " failed: container " + session.ctx.config.name + " is not created. " +
                           when_not_created);
  }
  bool running = before.state == engine::ContainerState::running;
  if (running) session.engine->stop(session.ctx, engine::StopOptions{std::chrono::seconds(timeout_seconds)});
  return running;
}

}  // namespace

int stop_command(const GlobalOptions& options, int timeout_seconds) {
  Console console(options);
  if (timeout_seconds < 0) throw usage_error("stop failed: --timeout must be 0 or more seconds.");
  auto session = open_engine_session(options);
  const std::string& name = session.ctx.config.name;
  bool was_running = stop_if_running(session, "stop", timeout_seconds, "Nothing to stop.");
  if (console.json()) {
    console.print_json({{"name", name}, {"state", "stopped"}, {"was_running", was_running}});
  } else {
    console.say(was_running ? "Stopped " + name + "; its data stays." : name + " is already stopped.");
  }
  return 0;
}

int restart_command(const GlobalOptions& options, int timeout_seconds) {
  Console console(options);
  if (timeout_seconds < 0) throw usage_error("restart failed: --timeout must be 0 or more seconds.");
  auto session = open_trusted_session(options, "restart");
  const std::string& name = session.ctx.config.name;
  stop_if_running(session, "restart", timeout_seconds, "Run `claude-container start` to create it.");
  auto result = session.engine->start(session.ctx);
  for (const auto& note : result.notes) console.note(note);
  register_mcp_servers_inside(session, console);
  if (console.json()) {
    console.print_json({{"name", name}, {"state", "running"}, {"notes", result.notes}});
  } else {
    console.say("Restarted " + name + ".");
  }
  return 0;
}

int status_command(const GlobalOptions& options) {
  Console console(options);
  auto ctx = find_project(options);
  if (!ctx) {
    if (console.json()) {
      console.print_json(not_set_up_status_json());
    } else {
      console.say("state:    not set up");
      console.say("Run `claude-container init` in the project directory to set one up.");
    }
    return static_cast<int>(ExitCode::not_set_up);
  }
  auto engine = engine::make_engine(ctx->config);
  auto status = engine->status(*ctx);
  // Whether start/exec would ask first: the project's config.json is not the approved one.
  bool approved = false;
  try {
    approved = config::is_approved(ctx->project_dir, config::read_config(ctx->project_dir).text);
  } catch (const Error&) {
  }
  if (console.json()) {
    auto object = status_json(*ctx, status);
    object["config_approved"] = approved;
    console.print_json(object);
  } else {
    for (const auto& line : status_text(*ctx, status, console)) console.say(line);
    if (!approved)
      console.say("config:    not approved by you; start and exec ask first (review it: `claude-container trust`)");
  }
  return 0;
}

namespace {

// Reads the container name typed on the terminal; true when it matches.
bool confirm_by_typing_name(const std::string& name, bool purge) {
  std::cerr << "This permanently deletes the container " << name
            << " and all its data (workspace volume, home, overlay changes)."
            << (purge ? " The project files claude-container wrote are removed too." : " Project files stay.")
            << "\nType the container name (" << name << ") to confirm: " << std::flush;
  std::string typed;
  if (!std::getline(std::cin, typed)) return false;
  return typed == name;
}

}  // namespace

int destroy_command(const GlobalOptions& options, bool yes, bool purge, bool image) {
  Console console(options);
  auto session = open_engine_session(options);
  const std::string& name = session.ctx.config.name;
  auto status = session.engine->status(session.ctx);
  bool exists = status.state != engine::ContainerState::not_created;
  if (!exists && !purge && !image) {
    throw not_set_up_error("destroy failed: container " + name +
                           " is not created. Nothing to destroy (pass --purge to remove the project files).");
  }
  // A purge that would be refused (a link in the project) is refused before anything is deleted.
  if (purge) project::check_purge_project_files(session.ctx.project_dir);
  if (!yes) {
    if (!is_terminal(STDIN_FILENO)) {
      throw usage_error("destroy refused: there is no terminal to confirm on. Pass --yes to destroy " + name +
                        " without confirmation.");
    }
    if (!confirm_by_typing_name(name, purge)) {
      throw Error("destroy cancelled: the name typed was not " + name + ". Nothing was deleted.");
    }
  }
  if (exists) session.engine->destroy(session.ctx);
  nlohmann::json out = {{"name", name}, {"destroyed", exists}};
  if (exists) console.say("Destroyed " + name + ".");
  if (image) {
    const bool removed = session.engine->remove_image(session.ctx);
    out["image_removed"] = removed;
    console.say(removed ? "Removed the image built for " + name + "." : "No image built for " + name + " to remove.");
  }
  if (purge) {
    auto report = project::purge_project_files(session.ctx.project_dir);
    out["purged"] = {{"removed", report.removed},
                     {"kept_modified", report.kept_modified},
                     {"gitignore_block_removed", report.gitignore_block_removed}};
    for (const auto& path : report.removed) console.say("  removed " + path);
    for (const auto& path : report.kept_modified) console.say("  kept " + path + " (changed since it was written)");
    if (report.gitignore_block_removed) console.say("  removed the claude-container block from .gitignore");
  }
  if (console.json()) console.print_json(out);
  return 0;
}

namespace {

int logs_command(const GlobalOptions& options, bool network, bool follow) {
  auto session = open_engine_session(options);
  auto status = session.engine->status(session.ctx);
  if (status.state == engine::ContainerState::not_created) {
    throw not_set_up_error("logs failed: container " + session.ctx.config.name +
                           " is not created, so it has no logs. Run `claude-container start` first.");
  }
  return session.engine->logs(session.ctx, engine::LogOptions{network, follow});
}

}  // namespace

void add_lifecycle_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto* start = app.add_subcommand("start", "create the container if needed and start it (idempotent)");
  table[start] = [&options] { return start_command(options); };

  auto* status = app.add_subcommand("status", "show not-set-up / not-created / stopped / running, with settings");
  table[status] = [&options] { return status_command(options); };

  // Option values live as long as the handlers that read them.
  struct Values {
    int stop_timeout = 10;
    int restart_timeout = 10;
    bool destroy_yes = false;
    bool destroy_purge = false;
    bool destroy_image = false;
    bool logs_network = false;
    bool logs_follow = false;
  };
  auto values = std::make_shared<Values>();

  auto* stop = app.add_subcommand("stop", "stop the container; the container and its data stay");
  stop->add_option("--timeout", values->stop_timeout, "seconds between SIGTERM and SIGKILL (default 10)")
      ->type_name("SECONDS");
  table[stop] = [&options, values] { return stop_command(options, values->stop_timeout); };

  auto* restart = app.add_subcommand("restart", "stop the container, then start it");
  restart->add_option("--timeout", values->restart_timeout, "seconds between SIGTERM and SIGKILL (default 10)")
      ->type_name("SECONDS");
  table[restart] = [&options, values] { return restart_command(options, values->restart_timeout); };

  auto* destroy = app.add_subcommand("destroy", "delete the container and its volumes after a typed confirmation");
  destroy->add_flag("--yes", values->destroy_yes, "do not ask for confirmation");
  destroy->add_flag("--purge", values->destroy_purge,
                    "also remove the project files claude-container wrote (unchanged ones)");
  destroy->add_flag("--image", values->destroy_image,
                    "also remove the image built for this project (docker, podman, apple; rebuilt at the next start)");
  table[destroy] = [&options, values] {
    return destroy_command(options, values->destroy_yes, values->destroy_purge, values->destroy_image);
  };

  auto* logs = app.add_subcommand("logs", "show the container's output");
  logs->add_flag("--network", values->logs_network, "show the egress audit log (allowed and denied connections)");
  logs->add_flag("-f,--follow", values->logs_follow, "keep printing as new lines arrive");
  table[logs] = [&options, values] { return logs_command(options, values->logs_network, values->logs_follow); };
}

}  // namespace cc::cli
