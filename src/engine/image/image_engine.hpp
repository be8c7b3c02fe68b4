#pragma once
// The engine for CLIs that run containers from images (podman, docker, Apple's `container`):
// one lifecycle, parameterised by the CLI's dialect (container_cli.hpp), so the same config
// means the same thing on each, and what a dialect cannot enforce is refused with the reason.
//
// - Identity: the container, its volumes and its image are named after the container key
//   (<name>-<12 hex of the canonical project path>, engine/native/paths.hpp) and carry the
//   project's canonical path in a label; a container whose label names another path is never
//   started, entered, stopped or removed.
// - Image: built from the project's Containerfile (a copy in the state directory, built with
//   an empty context) only when missing or when the Containerfile's hash (a label) changed;
//   the build log stays in the state directory and a terminal shows its progress.
// - Storage: `volume` = a named volume bound to a directory of ours seeded from the project
//   (diff/apply compare it with the seed, as on the native engine); `bind` = the project;
//   `hybrid` = an overlay mount whose upper layer is ours, where the CLI has one (podman),
//   else refused.
// - Processes: the container's pid 1 sleeps; shell, claude and exec run through `exec` as the
//   image's non-root user, with the environment computed at each exec (never stored in the
//   container's config, which `inspect` shows).
#include <filesystem>
#include <memory>
#include <string>

#include "engine/engine.hpp"
#include "engine/image/cli_runner.hpp"
#include "engine/image/container_cli.hpp"
#include "engine/native/paths.hpp"

namespace cc::engine::image {

// Names of what an image engine creates for one project.
struct ImageNames {
  std::string key;        // <name>-<12 hex>
  std::string container;  // cc-<key>
  std::string image;      // localhost/claude-container-<key>
  std::string home_volume;
  std::string workspace_volume;
};
ImageNames image_names(const std::string& name, const std::filesystem::path& project_dir);

// Label keys on everything an image engine creates.
inline constexpr const char* kProjectLabel = "dev.claude-container.project";
inline constexpr const char* kKeyLabel = "dev.claude-container.key";
inline constexpr const char* kStorageLabel = "dev.claude-container.storage";
inline constexpr const char* kContainerfileLabel = "dev.claude-container.containerfile-sha256";

class ImageEngine final : public Engine {
 public:
  explicit ImageEngine(std::unique_ptr<ContainerCli> cli);
  std::string name() const override { return cli_->engine_name(); }

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

  // destroy() keeps the built image (a rebuild costs minutes); this removes it, when it was
  // built for this project (its label), never another's.
  bool remove_image(const ProjectContext& ctx) override;

  const ContainerCli& cli() const { return *cli_; }
  // The binary the network host side re-executes (host_network.hpp); empty: this one. Tests,
  // which are not the CLI, name the CLI.
  void set_network_program(std::filesystem::path program) { network_program_ = std::move(program); }

 private:
  CliRunner runner() const;  // throws cc::Error naming how to install the CLI when it is missing

  std::unique_ptr<ContainerCli> cli_;
  std::filesystem::path network_program_;
};

// State and data directories of this engine's container: the native engine's layout (same
// key, same checks) in directories of its own, so switching engines never mixes their data.
native::ContainerPaths image_container_paths(const std::string& engine, const std::string& name,
                                             const std::filesystem::path& project_dir);

}  // namespace cc::engine::image
