#pragma once
// Control paths the project reaches through its own links. A project may ship
// `.envrc -> tools/envrc` or `.claude -> config/claude`: then tools/envrc and
// config/claude/settings.json are what the host runs, though no name in the control list
// says so; likewise the directory .git/config names as core.hooksPath (`.githooks`). apply
// holds back changes there as it holds back the control paths themselves.
#include <filesystem>
#include <string>
#include <vector>

#include "workspace/change_set.hpp"

namespace cc::workspace {

// The project-relative paths that control paths resolve to through links inside the
// project (each different from the control path itself), and core.hooksPath when it names
// a directory inside the project. Links leaving the project end
// the resolution: nothing there is project content.
std::vector<std::string> control_aliases(const std::filesystem::path& project);

// Marks each change at or below an alias, or a link put above one, as guarding a control path.
void mark_control_aliases(const std::vector<std::string>& aliases, std::vector<Change>& changes);

}  // namespace cc::workspace
