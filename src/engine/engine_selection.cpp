// Engine selection (DESIGN.md section 1): which backend runs a project's container.
#include <memory>
#include <string>

#include "engine/engine.hpp"
#include "engine/native/native_engine.hpp"
#include "util/error.hpp"

namespace cc::engine {

std::string to_string(ContainerState state) {
  switch (state) {
    case ContainerState::not_created: return "not-created";
    case ContainerState::stopped: return "stopped";
    case ContainerState::running: return "running";
  }
  return "unknown";
}

std::unique_ptr<Engine> make_engine(const config::Config& config) {
  switch (config.engine) {
    case config::EngineKind::automatic:
    case config::EngineKind::native:
#if defined(__linux__)
      return std::make_unique<native::NativeEngine>();
#else
      throw Error("the native engine runs only on Linux; set \"engine\" in .claude-container/config.json "
                  "to apple, docker or podman.", ExitCode::usage);
#endif
    case config::EngineKind::apple:
      throw Error("the apple engine is not available in this build yet; set \"engine\": \"native\" in "
                  ".claude-container/config.json (or run `claude-container init --engine native`).",
                  ExitCode::usage);
    case config::EngineKind::docker:
    case config::EngineKind::podman: {
      std::string which = config.engine == config::EngineKind::docker ? "docker" : "podman";
      throw Error("the " + which + " engine is not available in this build yet; set \"engine\": \"native\" in "
                  ".claude-container/config.json (or run `claude-container init --engine native`).",
                  ExitCode::usage);
    }
  }
  throw Error("unknown engine in the configuration; use auto or native.", ExitCode::usage);
}

}  // namespace cc::engine
