#pragma once
// The approval gate between a project's config and this user's machine (issue 7). Commands
// that run code in the container (start, restart, shell, claude, run, exec) and commands that
// change the config (allow, deny) use only a config this user approved; when it is new or
// changed they show what changed in words, ask once on a terminal, and otherwise exit 2
// naming `claude-container trust`. stop, status, destroy and logs never ask: they act on the
// approved copy when the project's file is new, changed or broken, so they always work.
#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_context.hpp"
#include "config/config_io.hpp"

namespace cc::cli {

// The summary lines for the project's current config against the last approved one.
struct TrustReview {
  std::filesystem::path project_dir;
  config::LoadedConfig current;
  bool approved = false;             // current is exactly what was approved
  bool ever_approved = false;        // some earlier version was approved
  std::vector<std::string> changes;  // in words; empty when approved
};
TrustReview review_config(const std::filesystem::path& project_dir);

// For start, restart, shell, claude, run, exec, allow, deny: the project with its approved
// config, after also checking what the config makes the host read (env_file, ca_file, the
// ${VAR} references), so that a refused start creates nothing.
engine::ProjectContext require_trusted_project(const GlobalOptions& options, const std::string& command);

// For stop, status, destroy, logs: the approved config when the project's file is not the
// approved one (with a note saying so), else the project's file.
std::optional<engine::ProjectContext> find_managed_project(const GlobalOptions& options, const Console& console);

// `claude-container trust`: shows the summary and approves the project's current config.
void add_trust_command(CLI::App& app, CommandTable& table, const GlobalOptions& options);

}  // namespace cc::cli
