// Engine selection (DESIGN.md section 1): which backend runs a project's container.
#include <iostream>
#include <memory>
#include <string>

#include "engine/apple/apple_engine.hpp"
#include "engine/engine.hpp"
#include "engine/image/cli_runner.hpp"
#include "engine/image/docker_cli.hpp"
#include "engine/image/image_engine.hpp"
#include "engine/image/podman_cli.hpp"
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

namespace {

// `auto` on Linux: native, unless its preflight fails here and podman or docker is installed.
std::unique_ptr<Engine> automatic_engine() {
  auto native_engine = std::make_unique<native::NativeEngine>();
  std::string why;
  try {
    Preflight pre = native_engine->preflight(nullptr);
    if (pre.ready()) return native_engine;
    for (const auto& c : pre.checks) {
      if (c.level == CheckLevel::fail) {
        why = c.name + ": " + c.detail;
        break;
      }
    }
  } catch (const Error&) {
    return native_engine;  // the checks themselves failed: its own errors say what to fix
  }
  for (const char* program : {"podman", "docker"}) {
    if (!image::find_program(program)) continue;
    std::cerr << "claude-container: the native engine cannot run here (" << why << "); using " << program
              << " instead (set \"engine\" in .claude-container/config.json to choose).\n";
    if (std::string(program) == "podman") return std::make_unique<image::ImageEngine>(image::make_podman_cli());
    return std::make_unique<image::ImageEngine>(image::make_docker_cli());
  }
  return native_engine;  // its own errors say what to fix
}

}  // namespace

std::unique_ptr<Engine> make_engine(const config::Config& config) {
  switch (config.engine) {
    case config::EngineKind::automatic:
#if defined(__linux__)
      return automatic_engine();
#elif defined(__APPLE__)
      return std::make_unique<apple::AppleEngine>();
#endif
      [[fallthrough]];
    case config::EngineKind::native:
#if defined(__linux__)
      return std::make_unique<native::NativeEngine>();
#else
      throw Error("the native engine runs only on Linux; set \"engine\" in .claude-container/config.json "
                  "to apple, docker or podman.", ExitCode::usage);
#endif
    case config::EngineKind::apple:
      // Constructed everywhere: it runs where Apple's CLI answers, and says so when it does not.
      return std::make_unique<apple::AppleEngine>();
    case config::EngineKind::docker:
      return std::make_unique<image::ImageEngine>(image::make_docker_cli());
    case config::EngineKind::podman:
      return std::make_unique<image::ImageEngine>(image::make_podman_cli());
  }
  throw Error("unknown engine in the configuration; use auto, native, apple, docker or podman.", ExitCode::usage);
}

}  // namespace cc::engine
