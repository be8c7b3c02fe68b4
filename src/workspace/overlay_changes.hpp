#pragma once
// Hybrid storage: the project is the overlay's read-only lower layer and every change made in
// the container lands in the upper layer. This reads that layer back as a change set, walking
// both trees with directory descriptors (never through a link, never opening a special file):
// overlay whiteouts (a 0/0 character device, or an empty file marked with the overlay
// whiteout xattr) are deletions, and an opaque directory hides everything the project has
// below it. Copy-ups without a change in content, type or mode are not changes.
#include <filesystem>
#include <vector>

#include "workspace/change_set.hpp"

namespace cc::workspace {

// Sorted by path; a deleted or replaced directory lists every path below it too.
// `keep_content`: keep text content for a review.
std::vector<Change> overlay_changes(const std::filesystem::path& project, const std::filesystem::path& upper,
                                    bool keep_content);

// After a partial apply (the container stopped): removes from the upper layer the files,
// links and whiteouts that are now in the project, so they no longer hide later host edits
// from the container. Entries below an opaque directory stay (removing them would hide the
// project's copy instead).
void overlay_forget_applied(const std::filesystem::path& upper, const std::vector<const Change*>& applied);

// Empties the upper and work directories (the container must be stopped).
void overlay_discard(const std::filesystem::path& upper, const std::filesystem::path& work);

}  // namespace cc::workspace
