// Temporary: the native engine's methods land one by one; until then each says so.
#include "engine/native/native_engine.hpp"

#include "util/error.hpp"

namespace cc::engine::native {

namespace {
[[noreturn]] void not_yet(const char* what) {
  throw Error(std::string("the native engine cannot ") + what + " yet in this build (work in progress).");
}
}  // namespace

StartResult NativeEngine::start(const ProjectContext&) { not_yet("start a container"); }
int NativeEngine::exec(const ProjectContext&, const ExecRequest&) { not_yet("exec"); }
void NativeEngine::stop(const ProjectContext&, const StopOptions&) { not_yet("stop"); }
Status NativeEngine::status(const ProjectContext&) { not_yet("report status"); }
void NativeEngine::destroy(const ProjectContext&) { not_yet("destroy"); }
int NativeEngine::logs(const ProjectContext&, const LogOptions&) { not_yet("show logs"); }
void NativeEngine::reload_network_policy(const ProjectContext&) { not_yet("reload the network policy"); }
std::vector<WorkspaceChange> NativeEngine::workspace_changes(const ProjectContext&) { not_yet("list changes"); }
std::string NativeEngine::workspace_diff(const ProjectContext&) { not_yet("diff"); }
void NativeEngine::apply_workspace_changes(const ProjectContext&) { not_yet("apply"); }
void NativeEngine::discard_workspace_changes(const ProjectContext&) { not_yet("discard"); }

}  // namespace cc::engine::native
