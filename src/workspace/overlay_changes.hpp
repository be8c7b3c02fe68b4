#pragma once
// Hybrid storage: the project is the overlay's read-only lower layer and every change made in
// the container lands in the upper layer. This reads that layer back: which paths were added,
// modified or deleted (overlay whiteouts: a 0/0 character device, or a file marked with the
// overlay whiteout xattr; opaque directories hide everything below them in the lower layer),
// a unified diff, applying the changes into the project (atomically per file) and discarding
// them.
#include <filesystem>
#include <string>
#include <vector>

namespace cc::workspace {

struct OverlayLayers {
  std::filesystem::path lower;  // the project
  std::filesystem::path upper;
  std::filesystem::path work;
};

struct Change {
  enum class Kind { added, modified, deleted };
  Kind kind;
  std::string path;  // relative
};

// Sorted by path. Files copied up without a content or mode change are not reported.
std::vector<Change> overlay_changes(const OverlayLayers& layers);

// `diff -u` text for every change (a/ = project, b/ = container).
std::string overlay_diff(const OverlayLayers& layers);

// Writes every change into the lower layer: files through a temporary file and rename, so a
// reader never sees half a file; deletions remove the path.
void overlay_apply(const OverlayLayers& layers);

// Empties the upper and work directories (the container must be stopped).
void overlay_discard(const OverlayLayers& layers);

}  // namespace cc::workspace
