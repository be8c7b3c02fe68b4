#pragma once
// Volume storage: the container works on its own copy of the project. Its changes are what
// differs from the project *as it was when the copy was seeded*, recorded then as a manifest
// (path, type, mode, sha256, link target) beside the volume. That manifest is the base of a
// three-way check: a path the container changed whose project copy also moved away from
// the base is a conflict.
#include <filesystem>
#include <vector>

#include "workspace/change_set.hpp"

namespace cc::workspace {

// Writes the manifest of `volume` (just seeded, so equal to the project) to `manifest`.
void record_seed_base(const std::filesystem::path& volume, const std::filesystem::path& manifest);

// The changes in `volume` against the seed base, with the project's current state as
// `before`. Sorted by path. Without a manifest (a volume seeded by an older version) the
// project as it is now is the base.
std::vector<Change> volume_changes(const std::filesystem::path& project, const std::filesystem::path& volume,
                                   const std::filesystem::path& manifest, bool keep_content);

// After an apply: the applied changes are now in the project, so they are the new base.
void advance_seed_base(const std::filesystem::path& manifest, const std::vector<const Change*>& applied);

// Drops the container's changes: the volume becomes a fresh copy of the project.
void reseed_volume(const std::filesystem::path& project, const std::filesystem::path& volume,
                   const std::filesystem::path& manifest);

}  // namespace cc::workspace
