#include "workspace/workspace_changes.hpp"

#include "workspace/hybrid_base.hpp"
#include "workspace/overlay_changes.hpp"
#include "workspace/volume_changes.hpp"

namespace cc::workspace {

std::vector<Change> read_changes(const WorkspaceLayout& layout, bool keep_content) {
  if (layout.kind == StorageKind::volume) return volume_changes(layout.project, layout.changes, layout.seed_base, keep_content);
  auto changes = overlay_changes(layout.project, layout.changes, keep_content);
  if (!layout.hybrid_base.empty()) mark_hybrid_conflicts(layout.hybrid_base, changes);
  return changes;
}

void settle_after_apply(const WorkspaceLayout& layout, const ApplyReport& report) {
  if (layout.kind == StorageKind::volume) {
    advance_seed_base(layout.seed_base, report.applied);
    return;
  }
  if (report.held_back.empty() && report.refused.empty()) {
    overlay_discard(layout.changes, layout.work);
  } else {
    overlay_forget_applied(layout.changes, report.applied);
    if (!layout.hybrid_base.empty()) advance_hybrid_base(layout.project, layout.hybrid_base, report.applied);
  }
}

void discard_changes(const WorkspaceLayout& layout) {
  if (layout.kind == StorageKind::volume) {
    reseed_volume(layout.project, layout.changes, layout.seed_base);
    return;
  }
  overlay_discard(layout.changes, layout.work);
}

}  // namespace cc::workspace
