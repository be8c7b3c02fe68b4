#pragma once
// Our one marked block in the project's .gitignore: added once, refreshed in place, removed
// on purge; the user's own lines are never touched.
#include <optional>
#include <string>

namespace cc::project {

inline constexpr const char* kGitignoreBegin = "# >>> claude-container >>>";
inline constexpr const char* kGitignoreEnd = "# <<< claude-container <<<";

enum class GitignoreBlock { absent, present, damaged };  // damaged: a begin marker without its end

GitignoreBlock find_gitignore_block(const std::string& text);

// `text` with `block` (markers included) in place of our old block, or appended when there is
// none; nullopt when the block is damaged, which a person must repair.
std::optional<std::string> gitignore_with_block(const std::string& text, const std::string& block);

// `text` without our block; unchanged when it has none or a damaged one.
std::string gitignore_without_block(const std::string& text);

}  // namespace cc::project
