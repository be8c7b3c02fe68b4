#pragma once
// The interactive setup questions (issue 2): mode, then one question for Playground and
// Development, or every setting for Custom. Nothing is written here: the caller writes the
// files once all answers are in, so Ctrl-C (PromptCancelled) leaves the project untouched.
#include "cli/prompt_terminal.hpp"
#include "cli/setup_config.hpp"

namespace cc::cli {

// Questions whose answer came as a flag are skipped; the flags are applied last.
config::Config run_setup_wizard(PromptTerminal& terminal, const SetupStart& start, const InitFlags& flags);

// "mode playground, name x, network isolated, storage volume" for the re-run greeting.
std::string settings_summary_line(const config::Config& config);

}  // namespace cc::cli
