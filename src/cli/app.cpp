// Bootstrap entry point; the CLI issue replaces this with the full command set.
#include "cli/app.hpp"

#include <cstdio>

namespace cc::cli {

int run(int, char**) {
  std::fprintf(stderr, "claude-container: no commands are built yet\n");
  return 2;
}

}  // namespace cc::cli
