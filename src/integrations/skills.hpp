#pragma once
// The host's Claude Code customisation shared with the container (skills.sync): which entries
// of the host's configuration directory are shared, and a copy of them for engines that copy
// instead of mounting. Engine-neutral: the native engine turns shared_skill_items() into
// read-only bind mounts (engine/native/skills_mount.hpp); image engines and `sync-skills`
// use copy_skill_items().
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/container_env.hpp"

namespace cc::integrations {

// The entries shared, relative to the configuration directory on both sides. Never
// settings.json, .credentials.json or .claude.json: those hold the host's login and trust.
struct SkillEntry {
  const char* name;
  bool directory;
};
inline constexpr SkillEntry kSkillEntries[] = {{"skills", true}, {"commands", true}, {"agents", true}, {"CLAUDE.md", false}};

struct SkillItem {
  std::string name;               // "skills", "commands", "agents", "CLAUDE.md"
  std::filesystem::path source;   // on the host
  bool directory = false;
};

// The host's Claude Code configuration directory: $CLAUDE_CONFIG_DIR when set, else
// $HOME/.claude; nullopt when neither is set. `env` is the host's environment.
std::optional<std::filesystem::path> host_claude_dir(const config::EnvLookup& env);

// The entries of kSkillEntries that exist in `claude_dir` with the right type (a directory, or
// a regular file for CLAUDE.md). The entries themselves must not be symlinks: a linked entry is
// left out and named in `skipped` (with why), since its target is outside what the user shares.
std::vector<SkillItem> shared_skill_items(const std::filesystem::path& claude_dir, std::vector<std::string>* skipped = nullptr);

// The skill names (directories directly under a "skills" item), sorted, for messages.
std::vector<std::string> skill_names(const std::vector<SkillItem>& items);

// Bounds of a copy: what a user's skills reasonably hold, so a huge or looping tree stops.
struct CopyLimits {
  std::size_t max_file_bytes = 16u * 1024 * 1024;
  std::uint64_t max_total_bytes = 256ull * 1024 * 1024;
  std::size_t max_entries = 20000;
  int max_depth = 32;
};

struct CopyReport {
  std::size_t files = 0;
  std::size_t directories = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> skipped;  // "skills/x/link: a symbolic link that leaves skills", ...
};

// Copies `items` into `dest_dir` (which must exist and be empty-ish; entries are created as
// dest_dir/<name>). Only directories and regular files are copied, with their permission bits
// (no setuid/setgid/sticky). A symbolic link is followed only when it resolves inside its own
// item (openat2 RESOLVE_BENEATH from the item's root): such a link arrives as the file or
// directory it names; a link that leaves the item (absolute, or through "..") and special files
// (devices, fifos, sockets) are skipped and named in the report. Throws cc::Error when a limit
// is exceeded or the destination cannot be written.
CopyReport copy_skill_items(const std::vector<SkillItem>& items, const std::filesystem::path& dest_dir,
                            const CopyLimits& limits = {});

}  // namespace cc::integrations
