#pragma once
// What `diff` and `apply` show: one summary line per change (names quoted as git does, links
// as `link -> target`, type and mode changes, binary files by size and hash, what apply holds
// back or refuses), unified diffs of text files with control characters made visible, the
// JSON form with exact names, and the digest line.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workspace/apply_plan.hpp"
#include "workspace/change_set.hpp"

namespace cc::workspace {

// "  modified  README.md", one line per change, with notes on what apply does with it.
std::string summary_text(const std::vector<Change>& changes, const ApplyOptions& options);

// `kind<TAB>quoted path` per change (diff --names).
std::string names_text(const std::vector<Change>& changes);

// Unified diffs for text files; binary files, links, types and modes in words.
std::string diff_text(const std::vector<Change>& changes);

// The change list for --json: exact names (a name that is not UTF-8 also as hex), both
// sides, and the verdict of apply with `options`.
nlohmann::json changes_json(const std::vector<Change>& changes, const ApplyOptions& options);

// A JSON-safe string: the text itself when it is UTF-8, else with U+FFFD for bad bytes.
std::string json_text(const std::string& text);

}  // namespace cc::workspace
