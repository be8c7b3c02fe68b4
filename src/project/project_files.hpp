#pragma once
// The files `init` writes into a user's project (DESIGN.md section 4) and their manifest.
// Files a person changed since we wrote them (sha256 differs from the manifest) are kept
// unless `force`; every write is atomic.
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace cc::project {

struct WriteOptions {
  bool force = false;  // overwrite files a person changed
};

struct WriteReport {
  std::vector<std::string> written;        // project-relative paths created or updated
  std::vector<std::string> unchanged;      // already identical
  std::vector<std::string> kept_modified;  // changed by a person; left alone (no --force)
  bool gitignore_block_added = false;
};

WriteReport write_project_files(const std::filesystem::path& project_dir, const config::Config& config,
                                const WriteOptions& options);

struct PurgeReport {
  std::vector<std::string> removed;
  std::vector<std::string> kept_modified;  // listed in the manifest but changed since
  bool gitignore_block_removed = false;
};

// `destroy --purge`: removes exactly the unchanged files the manifest lists, our .gitignore
// block, and directories left empty by that.
PurgeReport purge_project_files(const std::filesystem::path& project_dir);

}  // namespace cc::project
