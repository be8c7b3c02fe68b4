#pragma once
// The `apple` engine: Apple's `container` CLI (macOS 26+, Apple Silicon) driving the shared
// image lifecycle (image_engine.hpp) in Apple's dialect (apple_cli.hpp), plus what only Apple
// has: the release is read before anything runs (the dialect adapts to it and refuses what it
// cannot enforce), and the `container` system service is started when it is down.
//
// Where it runs: wherever Apple's CLI answers. Apple ships it for macOS 26 on Apple Silicon
// only, so on Linux `start` stops at the missing `container` with that sentence and `doctor`
// fails the platform check; the tests run it on Linux against a recording stand-in first on
// PATH, the same code path a Mac takes.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/apple/apple_cli.hpp"
#include "engine/engine.hpp"
#include "engine/image/image_engine.hpp"

namespace cc::engine::apple {

class AppleEngine final : public Engine {
 public:
  std::string name() const override { return "apple"; }

  Preflight preflight(const ProjectContext* ctx) override;
  StartResult start(const ProjectContext& ctx) override;
  int exec(const ProjectContext& ctx, const ExecRequest& req) override;
  void stop(const ProjectContext& ctx, const StopOptions& opts) override;
  Status status(const ProjectContext& ctx) override;
  void destroy(const ProjectContext& ctx) override;
  int logs(const ProjectContext& ctx, const LogOptions& opts) override;
  void reload_network_policy(const ProjectContext& ctx) override;
  void with_workspace(const ProjectContext& ctx, bool require_stopped,
                      const std::function<void(const workspace::WorkspaceLayout&, bool running)>& action) override;

  // `destroy --image`: destroy() keeps the built image, as on docker and podman.
  bool remove_image(const ProjectContext& ctx) override;

  // The binary the network host side re-executes (image_engine.hpp); empty: this one. Tests,
  // which are not the CLI, name the CLI.
  void set_network_program(std::filesystem::path program) { network_program_ = std::move(program); }

  // The release found by the last command, once one ran.
  std::optional<AppleVersion> version() const { return version_; }

 private:
  // Finds the CLI, reads its release and starts the service when it is down (noting that in
  // `notes`), then hands back the shared lifecycle in this release's dialect. Throws cc::Error
  // with one sentence when the CLI is missing or does not answer.
  image::ImageEngine& ready(std::vector<std::string>* notes = nullptr);

  std::optional<AppleVersion> version_;
  std::filesystem::path network_program_;
  std::unique_ptr<image::ImageEngine> inner_;
};

// What this machine is, for doctor: macOS 26 or later on Apple Silicon, or why not.
PreflightCheck platform_check();

}  // namespace cc::engine::apple
