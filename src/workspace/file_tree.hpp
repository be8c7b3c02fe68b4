#pragma once
// Whole-tree file operations for workspaces: copying a project into a volume (regular files,
// directories and symlinks with their modes; `.git` included; sockets, fifos and devices are
// skipped) and removing a tree even where directories were made read-only inside the container.
#include <filesystem>

namespace cc::workspace {

// Copies `source` into the new directory `destination` (which must not exist). Throws cc::Error.
void copy_tree(const std::filesystem::path& source, const std::filesystem::path& destination);

// Removes `path` and everything below it, adding owner write/exec permission to directories
// where needed. A missing path is fine. Throws cc::Error.
void remove_tree(const std::filesystem::path& path);

}  // namespace cc::workspace
