#pragma once
// Command bodies that the interactive menu calls as well as the parser.
#include "cli/cli_context.hpp"

namespace cc::cli {

int status_command(const GlobalOptions& options);
int shell_command(const GlobalOptions& options);
int stop_command(const GlobalOptions& options, int timeout_seconds);
int restart_command(const GlobalOptions& options, int timeout_seconds);
int destroy_command(const GlobalOptions& options, bool yes, bool purge, bool image = false);

}  // namespace cc::cli
