// doctor: asks the chosen engine what it needs from this machine (Engine::preflight) and shows
// the checklist, each gap with its fix. The checks themselves live in the engines.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

using engine::CheckLevel;
using engine::PreflightCheck;

const char* level_name(CheckLevel level) {
  switch (level) {
    case CheckLevel::ok:
      return "OK";
    case CheckLevel::warn:
      return "WARN";
    case CheckLevel::fail:
      return "FAIL";
  }
  return "FAIL";
}

int doctor_command(const GlobalOptions& options, const std::string& engine_flag) {
  Console console(options);
  std::optional<engine::ProjectContext> ctx;
  std::vector<PreflightCheck> checks;
  try {
    ctx = find_project(options);
  } catch (const Error& error) {
    checks.push_back({"configuration", CheckLevel::fail, error.what(),
                      "fix config.json or run `claude-container init` again"});
  }
  config::Config config = ctx ? ctx->config : config::Config{};
  if (!engine_flag.empty()) {
    auto kind = config::parse_engine(engine_flag);
    if (!kind) throw usage_error("doctor failed: unknown engine '" + engine_flag + "'. Use auto, native, apple, docker or podman.");
    config.engine = *kind;
  }
  // An engine this build lacks (or that cannot run on this system) is one line and exit 1:
  // there is nothing to check for it.
  std::unique_ptr<engine::Engine> engine;
  try {
    engine = engine::make_engine(config);
  } catch (const Error& error) {
    throw Error(std::string("doctor failed: ") + error.what(), ExitCode::failure);
  }
  engine::Preflight result = engine->preflight(ctx ? &*ctx : nullptr);
  checks.insert(checks.end(), result.checks.begin(), result.checks.end());

  int failures = 0, warnings = 0;
  for (const auto& check : checks) {
    failures += check.level == CheckLevel::fail;
    warnings += check.level == CheckLevel::warn;
  }
  if (console.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& check : checks) {
      list.push_back({{"name", check.name}, {"status", level_name(check.level)}, {"detail", check.detail}, {"fix", check.fix}});
    }
    console.print_json({{"engine", result.engine},
                        {"ready", failures == 0},
                        {"checks", list},
                        {"failures", failures},
                        {"warnings", warnings}});
  } else {
    console.say("Checking what the " + result.engine + " engine needs" + (ctx ? " for " + ctx->config.name : "") + ":");
    for (const auto& check : checks) {
      std::string padded = level_name(check.level);
      padded.resize(5, ' ');
      if (check.level == CheckLevel::ok) padded = console.green(padded);
      if (check.level == CheckLevel::warn) padded = console.yellow(padded);
      if (check.level == CheckLevel::fail) padded = console.red(padded);
      console.say(padded + check.name + ": " + check.detail);
      if (!check.fix.empty()) console.say("     fix: " + check.fix);
    }
    console.say(failures == 0 ? (warnings == 0 ? "Everything needed is in place."
                                               : "Usable; the warnings above limit what is enforced.")
                              : std::to_string(failures) + " check(s) failed; fix them before `claude-container start`.");
  }
  return failures == 0 ? 0 : static_cast<int>(ExitCode::failure);
}

}  // namespace

void add_doctor_command(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto engine = std::make_shared<std::string>();
  auto* doctor = app.add_subcommand("doctor", "check the prerequisites of the chosen engine and say how to fix each");
  doctor->add_option("--engine", *engine, "check this engine instead of the project's (auto, native, apple, docker, podman)")
      ->type_name("ENGINE");
  table[doctor] = [&options, engine] { return doctor_command(options, *engine); };
}

}  // namespace cc::cli
