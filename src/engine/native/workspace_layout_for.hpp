#pragma once
// Where a container's workspace changes are, by storage type: the same layout under the state
// and data directories for the native engine and the image engines, so diff/apply read both alike.
#include "engine/engine.hpp"
#include "engine/native/paths.hpp"
#include "workspace/workspace_layout.hpp"

namespace cc::engine::native {

// Throws cc::Error (not_set_up) before the first start, and for bind storage, which has no
// change layer.
workspace::WorkspaceLayout workspace_layout_for(const ProjectContext& ctx, const ContainerPaths& paths);

}  // namespace cc::engine::native
