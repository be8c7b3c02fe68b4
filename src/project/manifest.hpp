#pragma once
// .claude-container/manifest.json: which files claude-container wrote into the project, with
// the sha256 of what it wrote, so that a later init keeps files a person changed and a purge
// removes only ours. Format (schema_version 1):
//   {"schema_version": 1, "tool": "claude-container", "tool_version": "0.1.0",
//    "created_at": "2026-11-29T04:00:00Z", "updated_at": "...",
//    "gitignore": {"block": true, "created_file": false},
//    "files": [{"path": "scripts/container", "sha256": "...", "mode": "0755",
//               "created_at": "...", "updated_at": "..."}]}
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cc::project {

struct ManifestEntry {
  std::string path;  // project-relative
  std::string sha256;
  mode_t mode = 0644;
  std::string created_at;  // UTC, ISO 8601
  std::string updated_at;
};

struct Manifest {
  std::string tool_version;
  std::string created_at;
  std::string updated_at;
  bool gitignore_block = false;         // our block is in .gitignore
  bool gitignore_created_file = false;  // .gitignore did not exist before us
  std::vector<ManifestEntry> files;

  ManifestEntry* find(const std::string& path);
  const ManifestEntry* find(const std::string& path) const;
  void remove(const std::string& path);
};

// "2026-11-29T04:20:00Z".
std::string iso8601_utc(std::chrono::system_clock::time_point time);

// nullopt when the project has no manifest; cc::Error (usage) naming the file when it is not
// a manifest we can read.
std::optional<Manifest> load_manifest(const std::filesystem::path& project_dir);
std::string serialize_manifest(const Manifest& manifest);
Manifest parse_manifest(const std::string& text, const std::string& source_name);
void save_manifest(const std::filesystem::path& project_dir, const Manifest& manifest);

}  // namespace cc::project
