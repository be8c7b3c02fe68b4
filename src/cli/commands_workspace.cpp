// diff, apply, discard: review and take, or drop, the changes held in a hybrid or volume
// workspace. The container prepared everything these read, so: apply and discard work only
// with the container stopped (a frozen change layer); diff may look at a running one and is
// safe to (it never follows a link, never opens a special file, never blocks); apply takes
// exactly the change set whose digest was reviewed.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "util/error.hpp"
#include "workspace/quoted_name.hpp"
#include "workspace/review.hpp"
#include "workspace/workspace_changes.hpp"

namespace cc::cli {

namespace {

using workspace::Change;

struct ApplyValues {
  std::string digest;
  workspace::ApplyOptions options;
};

std::string count_text(size_t n) { return std::to_string(n) + (n == 1 ? " change" : " changes"); }

int diff_command(const GlobalOptions& options, bool names_only, const workspace::ApplyOptions& shown_for) {
  Console console(options);
  auto session = open_engine_session(options);
  session.engine->with_workspace(session.ctx, false, [&](const workspace::WorkspaceLayout& layout, bool running) {
    int cleaned = workspace::recover_interrupted_apply(layout);
    if (cleaned > 0) console.note("Removed " + std::to_string(cleaned) + " temporary file(s) an interrupted apply left in the project.");
    auto changes = workspace::read_changes(layout, !names_only);
    const std::string digest = workspace::change_digest(changes);
    if (console.json()) {
      console.print_json({{"name", session.ctx.config.name},
                          {"running", running},
                          {"changes", workspace::changes_json(changes, shown_for)},
                          {"diff", names_only ? std::string() : workspace::json_text(workspace::diff_text(changes))},
                          {"digest", digest}});
      return;
    }
    if (changes.empty()) {
      console.say("No changes in the workspace.");
      return;
    }
    if (options.quiet) return;
    if (names_only) {
      std::cout << workspace::names_text(changes);
    } else {
      std::cout << workspace::summary_text(changes, shown_for) << "\n" << workspace::diff_text(changes) << "\n";
    }
    std::cout << count_text(changes.size()) << ", digest " << digest << "\n"
              << "To take exactly these: claude-container apply --digest " << digest << "\n";
    if (running) {
      std::cout << "(The container is running and may change them further; apply needs it stopped and checks the digest.)\n";
    }
    std::cout << std::flush;
  });
  return 0;
}

nlohmann::json report_list(const std::vector<std::pair<const Change*, std::string>>& items) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [c, why] : items) list.push_back({{"path", workspace::json_text(c->path)}, {"why", why}});
  return list;
}

int apply_command(const GlobalOptions& options, const ApplyValues& values) {
  Console console(options);
  auto session = open_engine_session(options);
  int status = 0;
  session.engine->with_workspace(session.ctx, true, [&](const workspace::WorkspaceLayout& layout, bool) {
    int cleaned = workspace::recover_interrupted_apply(layout);
    if (cleaned > 0) console.note("Removed " + std::to_string(cleaned) + " temporary file(s) an interrupted apply left in the project.");
    auto changes = workspace::read_changes(layout, false);
    const std::string digest = workspace::change_digest(changes);
    if (changes.empty()) {
      if (console.json()) console.print_json({{"name", session.ctx.config.name}, {"applied", nlohmann::json::array()}});
      else console.say("No changes to apply.");
      return;
    }
    // The summary again, so what is confirmed is what is in front of the reviewer.
    if (!console.json() && !options.quiet) std::cout << workspace::summary_text(changes, values.options) << std::flush;
    if (!values.digest.empty()) {
      if (values.digest != digest) {
        throw Error("apply refused: the changes are not the ones reviewed (digest " + values.digest + ", now " + digest +
                    "): the workspace or the project changed since. Review them again with `claude-container diff`.");
      }
    } else if (is_terminal(STDIN_FILENO) && !console.json()) {
      std::cerr << "Apply " << count_text(changes.size()) << " (digest " << digest << ") to "
                << session.ctx.project_dir.string() << "? [y/N] " << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y" && answer != "yes") throw Error("apply cancelled: nothing was applied.");
    } else {
      throw usage_error("apply refused: there is no terminal to confirm on. Review the changes with `claude-container "
                        "diff` and pass the digest it prints: `claude-container apply --digest <digest>`.");
    }
    auto report = workspace::apply_changes(layout, changes, values.options);
    workspace::settle_after_apply(layout, report);
    if (console.json()) {
      nlohmann::json applied = nlohmann::json::array();
      for (const Change* c : report.applied) applied.push_back({{"kind", workspace::kind_name(c->kind)}, {"path", workspace::json_text(c->path)}});
      console.print_json({{"name", session.ctx.config.name},
                          {"digest", digest},
                          {"applied", applied},
                          {"held_back", report_list(report.held_back)},
                          {"refused", report_list(report.refused)}});
    } else {
      console.say("Applied " + count_text(report.applied.size()) + " to " + session.ctx.project_dir.string() + ".");
      if (!report.held_back.empty()) {
        console.say("Held back " + count_text(report.held_back.size()) + " (still in the workspace):");
        for (const auto& [c, why] : report.held_back) console.say("  " + workspace::quote_path(c->path) + ": " + why);
      }
    }
    if (!report.refused.empty()) {
      std::string list;
      for (const auto& [c, why] : report.refused) list += "\n  " + workspace::quote_path(c->path) + ": " + why;
      if (!console.json()) std::cerr << "Refused " << count_text(report.refused.size()) << ":" << list << "\n";
      status = 1;
    }
  });
  return status;
}

int discard_command(const GlobalOptions& options, bool yes) {
  Console console(options);
  auto session = open_engine_session(options);
  session.engine->with_workspace(session.ctx, true, [&](const workspace::WorkspaceLayout& layout, bool) {
    workspace::recover_interrupted_apply(layout);
    auto changes = workspace::read_changes(layout, false);
    nlohmann::json names = nlohmann::json::array();
    for (const auto& c : changes) names.push_back({{"kind", workspace::kind_name(c.kind)}, {"path", workspace::json_text(c.path)}});
    if (changes.empty()) {
      if (console.json()) console.print_json({{"name", session.ctx.config.name}, {"discarded", names}});
      else console.say("No changes to discard.");
      return;
    }
    if (!yes) {
      if (!is_terminal(STDIN_FILENO)) {
        throw usage_error("discard refused: there is no terminal to confirm on. Pass --yes to drop " +
                          count_text(changes.size()) + " without confirmation.");
      }
      std::cerr << "Drop " << count_text(changes.size()) << " made in the workspace? They cannot be recovered. [y/N] "
                << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y" && answer != "yes") throw Error("discard cancelled: nothing was dropped.");
    }
    workspace::discard_changes(layout);
    if (console.json()) console.print_json({{"name", session.ctx.config.name}, {"discarded", names}});
    else console.say("Discarded " + count_text(changes.size()) + ".");
  });
  return 0;
}

}  // namespace

void add_workspace_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  struct Values {
    bool names_only = false;
    bool discard_yes = false;
    ApplyValues apply;
  };
  auto values = std::make_shared<Values>();

  auto* diff = app.add_subcommand(
      "diff", "review the changes made in a hybrid or volume workspace; ends with the digest `apply --digest` takes");
  diff->add_flag("--names", values->names_only, "list changed paths only (names quoted as git does)");
  diff->add_flag("--include-git", values->apply.options.include_git, "show changes under .git/ as apply --include-git would take them");
  table[diff] = [&options, values] { return diff_command(options, values->names_only, values->apply.options); };

  auto* apply = app.add_subcommand(
      "apply",
      "copy the reviewed changes into the project; the container must be stopped. Takes exactly the set whose digest "
      "is given (or confirmed on a terminal); holds back .git/ and files the host runs; never copies setuid/setgid "
      "bits, file capabilities, FIFOs, sockets or devices");
  apply->add_option("--digest", values->apply.digest, "the digest `claude-container diff` printed; refuses any other set");
  apply->add_flag("--include-git", values->apply.options.include_git, "also take changes under .git/ (hooks, config)");
  apply->add_option("--include", values->apply.options.include_paths,
                    "also take held-back changes at or below this path (.claude-container, scripts, .vscode, ...)");
  apply->add_flag("--force", values->apply.options.force, "also take files whose project copy changed meanwhile");
  table[apply] = [&options, values] { return apply_command(options, values->apply); };

  auto* discard = app.add_subcommand("discard", "drop the changes made in a hybrid or volume workspace (container stopped)");
  discard->add_flag("--yes", values->discard_yes, "do not ask for confirmation");
  table[discard] = [&options, values] { return discard_command(options, values->discard_yes); };
}

}  // namespace cc::cli
