#pragma once
// Project paths that run code on the host without anyone asking (git hooks, editor tasks,
// direnv, the host's Claude Code settings) or that steer this tool itself. The container may
// not change them: they are read-only inside with `bind` storage, and `apply` holds back
// changes to them unless the user asks for them by name. One list, used by both.
#include <span>
#include <string_view>

namespace cc::project {

struct ControlPath {
  std::string_view path;  // relative to the project root
  bool directory;         // the whole tree below it
  bool git;               // part of .git: `development` mode may relax it, and
                          // `apply --include-git` takes it
};

inline constexpr ControlPath kControlPaths[] = {
    {".claude-container", true, false},        // this tool's config, manifest and spec
    {"scripts", true, false},                  // scripts/container runs on the host
    {".git/hooks", true, true},                // run by the user's next git command
    {".git/config", false, true},              // core.fsmonitor, core.hooksPath, aliases
    {".git/info", true, true},                 // attributes that pick filters and diff drivers
    {".husky", true, false},                   // hooks via core.hooksPath
    {".pre-commit-config.yaml", false, false}, // pre-commit installs and runs what it lists
    {"lefthook.yml", false, false},
    {".lefthook.yml", false, false},
    {".envrc", false, false},                  // direnv
    {".mise.toml", false, false},              // mise tasks and hooks
    {"mise.toml", false, false},
    {".vscode", true, false},                  // tasks, launch configurations, settings
    {".idea", true, false},                    // run configurations
    {".claude/settings.json", false, false},   // the host's Claude Code runs its hooks
    {".claude/settings.local.json", false, false},
    {".mcp.json", false, false},               // MCP servers the host's Claude Code starts
};

inline constexpr std::span<const ControlPath> control_paths() { return kControlPaths; }

// The entry that `relative` (a clean project-relative path) is, or lies below; else nullptr.
constexpr const ControlPath* find_control_path(std::string_view relative) {
  for (const auto& control : kControlPaths) {
    if (relative == control.path) return &control;
    if (control.directory && relative.size() > control.path.size() &&
        relative.substr(0, control.path.size()) == control.path &&
        relative[control.path.size()] == '/')
      return &control;
  }
  return nullptr;
}

// Whether a control path lies below `relative` (".claude" holds ".claude/settings.json"): a
// link put there would make that control path resolve to whatever the link points at.
constexpr bool holds_control_path(std::string_view relative) {
  for (const auto& control : kControlPaths) {
    if (control.path.size() > relative.size() && control.path.substr(0, relative.size()) == relative &&
        control.path[relative.size()] == '/')
      return true;
  }
  return false;
}

}  // namespace cc::project
