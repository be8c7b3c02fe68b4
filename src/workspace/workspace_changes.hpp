#pragma once
// The storage-independent entry points of diff, apply and discard: read the change set of a
// hybrid or volume workspace, tidy up after an apply, drop the changes.
#include <vector>

#include "workspace/apply_changes.hpp"
#include "workspace/change_set.hpp"
#include "workspace/workspace_layout.hpp"

namespace cc::workspace {

std::vector<Change> read_changes(const WorkspaceLayout& layout, bool keep_content);

// After an apply with the container stopped: hybrid drops its change layer when everything
// was taken (so nothing shadows the project any more); volume moves its base forward.
void settle_after_apply(const WorkspaceLayout& layout, const ApplyReport& report);

// Drops every change (the container must be stopped).
void discard_changes(const WorkspaceLayout& layout);

}  // namespace cc::workspace
