#pragma once

namespace cc::cli {

// Parses the command line, runs the command, prints errors; returns the process exit status.
int run(int argc, char** argv);

}  // namespace cc::cli
