#pragma once
// The native Linux engine (DESIGN.md section 5): a per-container supervisor, namespaces,
// mounts, seccomp and cgroups, all in this binary.
#include "engine/engine.hpp"

namespace cc::engine::native {

class NativeEngine final : public Engine {
 public:
  std::string name() const override { return "native"; }
  Preflight preflight(const ProjectContext* ctx) override;  // preflight.cpp

  StartResult start(const ProjectContext& ctx) override;
  int exec(const ProjectContext& ctx, const ExecRequest& req) override;
  void stop(const ProjectContext& ctx, const StopOptions& opts) override;
  Status status(const ProjectContext& ctx) override;
  void destroy(const ProjectContext& ctx) override;
  int logs(const ProjectContext& ctx, const LogOptions& opts) override;
  void reload_network_policy(const ProjectContext& ctx) override;
  std::optional<SkillsRefresh> refresh_skills(const ProjectContext& ctx,
                                              const std::vector<integrations::SkillItem>& items) override;

  void with_workspace(const ProjectContext& ctx, bool require_stopped,
                      const std::function<void(const workspace::WorkspaceLayout&, bool running)>& action) override;
};

}  // namespace cc::engine::native
