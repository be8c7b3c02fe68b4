#pragma once
// Where a workspace's changes live, as the engine knows it; everything in workspace/ works
// from this. Hybrid: the project is the overlay's lower layer and `changes` its upper layer.
// Volume: `changes` is the container's own copy, compared against the project as it was
// when the copy was seeded (the manifest at `seed_base`).
#include <filesystem>

namespace cc::workspace {

enum class StorageKind { hybrid, volume };

struct WorkspaceLayout {
  StorageKind kind = StorageKind::hybrid;
  std::filesystem::path project;    // the host project: where apply writes
  std::filesystem::path changes;    // hybrid: overlay upper dir; volume: the volume
  std::filesystem::path work;       // hybrid: overlay work dir; unused for volume
  std::filesystem::path seed_base;  // volume: manifest of the project at seeding
  std::filesystem::path hybrid_base;  // hybrid: project stamps at start (workspace/hybrid_base)
  // Persistent (not tmpfs) and outside the project: the temporary names an apply made, so
  // an interrupted apply is cleaned up by the next diff or apply.
  std::filesystem::path journal;
};

}  // namespace cc::workspace
