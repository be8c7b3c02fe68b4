#include "cli/command_line.hpp"

#include <CLI/CLI.hpp>

#include "cli/config_trust.hpp"

namespace cc::cli {

std::unique_ptr<CLI::App> build_command_line(GlobalOptions& options, CommandTable& table, bool& show_version) {
  auto app = std::make_unique<CLI::App>(
      "Gives a project an isolated environment in which an AI coding agent runs code nobody has reviewed yet.",
      "claude-container");
  app->get_formatter()->column_width(34);
  // Global options are accepted after the command word too (`status --json`).
  app->fallthrough();
  app->require_subcommand(0, 1);
  app->add_option("--project", options.project,
                  "the project directory (default: the nearest ancestor holding .claude-container/config.json)")
      ->type_name("DIR");
  app->add_flag("--json", options.json, "print one JSON object on stdout instead of text");
  app->add_flag("--quiet", options.quiet, "print nothing but errors");
  app->add_flag("--version", show_version, "print the version and exit");

  add_setup_commands(*app, table, options);
  add_trust_command(*app, table, options);
  add_lifecycle_commands(*app, table, options);
  add_exec_commands(*app, table, options);
  add_network_commands(*app, table, options);
  add_workspace_commands(*app, table, options);
  add_skills_commands(*app, table, options);
  add_credentials_commands(*app, table, options);
  add_doctor_command(*app, table, options);
  add_docs_commands(*app, table, options);
  return app;
}

}  // namespace cc::cli
