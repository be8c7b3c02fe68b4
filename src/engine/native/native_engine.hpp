#pragma once
// The native Linux engine (DESIGN.md section 5): a per-container supervisor, namespaces,
// mounts, seccomp and cgroups, all in this binary.
#include "engine/engine.hpp"

namespace cc::engine::native {

class NativeEngine final : public Engine {
 public:
  std::string name() const override { return "native"; }

  StartResult start(const ProjectContext& ctx) override;
  int exec(const ProjectContext& ctx, const ExecRequest& req) override;
  void stop(const ProjectContext& ctx, const StopOptions& opts) override;
  Status status(const ProjectContext& ctx) override;
  void destroy(const ProjectContext& ctx) override;
  int logs(const ProjectContext& ctx, const LogOptions& opts) override;
  void reload_network_policy(const ProjectContext& ctx) override;

  std::vector<WorkspaceChange> workspace_changes(const ProjectContext& ctx) override;
  std::string workspace_diff(const ProjectContext& ctx) override;
  void apply_workspace_changes(const ProjectContext& ctx) override;
  void discard_workspace_changes(const ProjectContext& ctx) override;
};

}  // namespace cc::engine::native
