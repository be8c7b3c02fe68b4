// diff, apply, discard: review and take, or drop, the changes held in a hybrid workspace.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

const char* kind_name(engine::WorkspaceChange::Kind kind) {
  switch (kind) {
    case engine::WorkspaceChange::Kind::added:
      return "added";
    case engine::WorkspaceChange::Kind::modified:
      return "modified";
    case engine::WorkspaceChange::Kind::deleted:
      return "deleted";
  }
  return "modified";
}

nlohmann::json changes_json(const std::vector<engine::WorkspaceChange>& changes) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& change : changes) list.push_back({{"kind", kind_name(change.kind)}, {"path", change.path}});
  return list;
}

int diff_command(const GlobalOptions& options, bool names_only) {
  Console console(options);
  auto session = open_engine_session(options);
  auto changes = session.engine->workspace_changes(session.ctx);
  if (console.json()) {
    console.print_json({{"name", session.ctx.config.name},
                        {"changes", changes_json(changes)},
                        {"diff", names_only ? std::string() : session.engine->workspace_diff(session.ctx)}});
    return 0;
  }
  if (changes.empty()) {
    console.say("No changes in the workspace.");
    return 0;
  }
  if (names_only) {
    for (const auto& change : changes) console.say(std::string(kind_name(change.kind)) + "\t" + change.path);
    return 0;
  }
  if (!options.quiet) std::cout << session.engine->workspace_diff(session.ctx) << std::flush;
  return 0;
}

int apply_command(const GlobalOptions& options) {
  Console console(options);
  auto session = open_engine_session(options);
  auto changes = session.engine->workspace_changes(session.ctx);
  if (!changes.empty()) session.engine->apply_workspace_changes(session.ctx);
  if (console.json()) {
    console.print_json({{"name", session.ctx.config.name}, {"applied", changes_json(changes)}});
  } else if (changes.empty()) {
    console.say("No changes to apply.");
  } else {
    console.say("Applied " + std::to_string(changes.size()) + " change(s) to " + session.ctx.project_dir.string() + ".");
  }
  return 0;
}

int discard_command(const GlobalOptions& options, bool yes) {
  Console console(options);
  auto session = open_engine_session(options);
  auto changes = session.engine->workspace_changes(session.ctx);
  if (changes.empty()) {
    if (console.json()) console.print_json({{"name", session.ctx.config.name}, {"discarded", changes_json(changes)}});
    else console.say("No changes to discard.");
    return 0;
  }
  if (!yes) {
    if (!is_terminal(STDIN_FILENO)) {
      throw usage_error("discard refused: there is no terminal to confirm on. Pass --yes to drop " +
                        std::to_string(changes.size()) + " change(s) without confirmation.");
    }
    std::cerr << "Drop " << changes.size() << " change(s) made in the workspace? They cannot be recovered. [y/N] "
              << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      throw Error("discard cancelled: nothing was dropped.");
    }
  }
  session.engine->discard_workspace_changes(session.ctx);
  if (console.json()) {
    console.print_json({{"name", session.ctx.config.name}, {"discarded", changes_json(changes)}});
  } else {
    console.say("Discarded " + std::to_string(changes.size()) + " change(s).");
  }
  return 0;
}

}  // namespace

void add_workspace_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  struct Values {
    bool names_only = false;
    bool discard_yes = false;
  };
  auto values = std::make_shared<Values>();

  auto* diff = app.add_subcommand("diff", "show the changes made in a hybrid workspace (unified diff)");
  diff->add_flag("--names", values->names_only, "list changed paths only");
  table[diff] = [&options, values] { return diff_command(options, values->names_only); };

  auto* apply = app.add_subcommand("apply", "copy the changes made in a hybrid workspace into the project");
  table[apply] = [&options] { return apply_command(options); };

  auto* discard = app.add_subcommand("discard", "drop the changes made in a hybrid workspace");
  discard->add_flag("--yes", values->discard_yes, "do not ask for confirmation");
  table[discard] = [&options, values] { return discard_command(options, values->discard_yes); };
}

}  // namespace cc::cli
