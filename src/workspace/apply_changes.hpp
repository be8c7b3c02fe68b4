#pragma once
// Writing a reviewed change set into the project, crash-safely. Each file is written to a
// temporary name beside it, checked against the reviewed hash, fsynced and renamed over the
// old one, so a project file is always whole: old or new. The temporary names are recorded
// in a journal outside the project first (WorkspaceLayout::journal), so whatever an apply
// killed at any moment left behind is removed by the next diff or apply.
//
// Nothing is followed: both trees are walked beneath their roots without symlinks, a file is
// copied from the very descriptor that was checked, and the project's copy must still be
// what the review showed (unless --force). Files get permission bits only: no setuid,
// setgid, sticky bit, no xattrs (so no file capabilities), owned by the project's owner.
// Symlinks are recreated as links, never resolved.
#include <string>
#include <vector>

#include "workspace/apply_plan.hpp"
#include "workspace/change_set.hpp"
#include "workspace/workspace_layout.hpp"

namespace cc::workspace {

struct ApplyReport {
  std::vector<const Change*> applied;
  std::vector<std::pair<const Change*, std::string>> held_back;  // with why
  std::vector<std::pair<const Change*, std::string>> refused;    // with why
};

// Applies `changes` (as reviewed: read from layout.changes and layout.project) into the project.
ApplyReport apply_changes(const WorkspaceLayout& layout, const std::vector<Change>& changes,
                          const ApplyOptions& options);

// Removes the temporary files an interrupted apply left in the project and its journal.
// Returns how many were removed. Call with the container's state lock held.
int recover_interrupted_apply(const WorkspaceLayout& layout);

}  // namespace cc::workspace
