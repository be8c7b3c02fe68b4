#include "project/templates/templates.hpp"

namespace cc::project {

// Only machine state is ignored: config.json, the Containerfile, CONTAINER-SPEC.md,
// mcp-config.json (secrets are ${VAR} references) and the scripts are worth committing so
// that everyone who clones the project gets the same environment. Paths are anchored with
// "/" so nothing of the same name elsewhere in the project is hidden.
std::string render_gitignore_block() {
  return R"(# >>> claude-container >>>
# Added by claude-container; `claude-container destroy --purge` removes this block.
# The manifest is machine state; the other files in .claude-container/ and scripts/
# describe the environment and are meant to be committed.
/.claude-container/manifest.json
/.claude-container/.*.tmp-*
# <<< claude-container <<<
)";
}

}  // namespace cc::project
