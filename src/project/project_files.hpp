#pragma once
// The files `init` writes into a user's project (DESIGN.md section 4) and their manifest.
// Files a person changed since we wrote them (sha256 differs from the manifest) are kept
// unless `force`; every write is atomic. Every path is resolved beneath the project root
// (cc::beneath): a symlink the repository shipped is never followed, and a refused write is
// refused before anything is written.
//
// config.json is the exception to "keep what a person changed": it is the settings the
// caller (init) has just decided, so it is always written; everything else is derived from it.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::project {

struct WriteOptions {
  bool force = false;  // overwrite files a person changed
  // The time recorded in the manifest; unset = now. Tests fix it so output is reproducible.
  std::optional<std::chrono::system_clock::time_point> now;
};

struct WriteReport {
  std::vector<std::string> written;        // project-relative paths created or updated
  std::vector<std::string> unchanged;      // already identical
  std::vector<std::string> kept_modified;  // changed by a person; left alone (no --force)
  std::vector<std::string> removed;        // generated earlier, no longer wanted by this config
  bool gitignore_block_added = false;
};

// Throws cc::Error (usage) before writing anything when `config` is not one config.json may hold.
WriteReport write_project_files(const std::filesystem::path& project_dir, const config::Config& config,
                                const WriteOptions& options);

struct PurgeReport {
  std::vector<std::string> removed;
  std::vector<std::string> kept_modified;  // listed in the manifest but changed since
  bool gitignore_block_removed = false;
};

// `destroy --purge`: removes exactly the unchanged files the manifest lists, our .gitignore
// block, and directories left empty by that. Every path is checked beneath the project root
// first (a manifest entry "link/known.txt" with link -> /root is refused, nothing removed).
PurgeReport purge_project_files(const std::filesystem::path& project_dir);
// The checks purge_project_files makes before removing anything, for callers that must know
// before they destroy the container. Throws cc::Error (usage) with one sentence.
void check_purge_project_files(const std::filesystem::path& project_dir);

// Saves config.json after the tool itself changed a setting (`allow`, `deny`, ...) and records
// its new sha256 in the manifest, so that a later purge still knows the file as ours.
void save_config_tracked(const std::filesystem::path& project_dir, const config::Config& config,
                         std::optional<std::chrono::system_clock::time_point> now = std::nullopt);

// One generated file, before it touches the disk.
struct GeneratedFile {
  std::string path;  // project-relative, '/'-separated
  std::string content;
  mode_t mode = 0644;
};

// Everything write_project_files would write for this config except the manifest and the
// .gitignore block, in a fixed order. Pure: reads nothing, writes nothing.
std::vector<GeneratedFile> render_project_files(const config::Config& config);

}  // namespace cc::project
