#include "engine/native/workspace_layout_for.hpp"

#include <filesystem>
#include <system_error>

#include "util/error.hpp"

namespace cc::engine::native {

workspace::WorkspaceLayout workspace_layout_for(const ProjectContext& ctx, const ContainerPaths& paths) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(paths.created_marker(), ec))) {
    throw not_set_up_error("the container " + ctx.config.name + " has not been created yet; run `claude-container start`.");
  }
  workspace::WorkspaceLayout layout;
  layout.project = ctx.project_dir;
  layout.journal = paths.apply_journal();
  switch (ctx.config.storage.type) {
    case config::StorageType::hybrid:
      layout.kind = workspace::StorageKind::hybrid;
      layout.changes = paths.upper_dir();
      layout.work = paths.work_dir();
      layout.hybrid_base = paths.hybrid_base();
      break;
    case config::StorageType::volume:
      layout.kind = workspace::StorageKind::volume;
      layout.changes = paths.volume_dir();
      layout.seed_base = paths.seed_base();
      break;
    case config::StorageType::bind:
      throw not_set_up_error("the workspace of " + ctx.config.name +
                             " uses bind storage: the container writes into the project directly, so there is nothing "
                             "to review; diff, apply and discard work with hybrid or volume storage.");
  }
  return layout;
}

}  // namespace cc::engine::native
