#pragma once
// Apple's `container` CLI (macOS 26+, Apple Silicon) as a ContainerCli dialect, per version.
// Facts from /work/shared/reference/apple-container.md, checked against apple/container's
// sources at each release tag 0.5.0 … 1.2.2:
// - `container --version` prints "container CLI version X.Y.Z (build: …, commit: …)" in every
//   release; `container system version --format json` (0.8+) prints
//   [{"version", "buildType", "commit", "appName"}, …]. Both parse.
// - `inspect`/`list` JSON: ≤ 0.12 `[{"status": "running", "configuration": {…}, "networks"}]`,
//   ≥ 1.0 `[{"id", "configuration", "status": {"state", …}}]`; `inspect` of an unknown name
//   prints `[]` and exits 0 before 1.0, errors "container not found" from 1.0.
// - Host unix sockets go in with `-v host_socket:container_path`: the runtime sees a socket as
//   the mount source and relays it into the guest (what `--ssh` does for the agent socket).
//   `--publish-socket` relays the other way, a socket inside the container onto the host, so it
//   cannot carry the container's connections to the host-side proxy. The host side's socket
//   directory, which docker and podman mount whole, goes in one socket at a time: a socket on a
//   virtiofs share cannot be connected to from the VM.
// - `--network none` 0.6+, `--read-only` 0.8+, `--ulimit` 0.9+, `--cap-drop` 0.12+. Named
//   volumes are ext4 disks that start empty and root-owned (auto-created so from 0.6; an error
//   before), so the engine uses none: the workspace is a host directory it seeds and binds, the
//   home stays in the container's own filesystem. An `--internal` network is never used: it
//   NATs to raw IPs (apple/container#2062).
// - `--cpus` is a whole number; `--memory` has 1 MiB granularity; without them a container
//   gets 4 CPUs and 1 GiB, below Claude Code's need, so both are always passed.
#include <optional>
#include <string>
#include <vector>

#include "engine/image/container_cli.hpp"

namespace cc::engine::apple {

struct AppleVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const AppleVersion&) const = default;
  std::string text() const;  // "0.12.3"
};

// Releases that changed what the engine may rely on.
inline constexpr AppleVersion kOldestSupported{0, 5, 0};  // the oldest release studied
inline constexpr AppleVersion kNetworkNoneSince{0, 6, 0};
inline constexpr AppleVersion kVolumeAutoCreateSince{0, 6, 0};
inline constexpr AppleVersion kReadOnlySince{0, 8, 0};
inline constexpr AppleVersion kUlimitSince{0, 9, 0};
inline constexpr AppleVersion kCapDropSince{0, 12, 0};
inline constexpr AppleVersion kNewJsonShapeSince{1, 0, 0};

// The version in `container --version` output or in `container system version --format json`
// output (the entry whose appName is "container", else the first); nullopt when neither.
std::optional<AppleVersion> parse_apple_version(const std::string& output);

// What to run to find things out about the service; not part of the shared lifecycle.
std::vector<std::string> version_args();        // --version
std::vector<std::string> system_status_args();  // system status: exit 1 when the apiserver is down
// system start, answering the first start's kernel prompt with its default (install Apple's
// recommended kernel): without a kernel no container can run, and the prompt would block a
// non-interactive start.
std::vector<std::string> system_start_args();

// The containers in `inspect`/`list --format json` output of any version, in order.
std::vector<image::ContainerInfo> parse_container_list(const std::string& json);

// How to get a newer release, for refusals that name one.
std::string upgrade_hint();

class AppleCli final : public image::ContainerCli {
 public:
  explicit AppleCli(AppleVersion version) : version_(version) {}
  const AppleVersion& version() const { return version_; }

  std::string engine_name() const override { return "apple"; }
  std::string program() const override { return "container"; }

  std::vector<std::string> build_args(const image::BuildSpec& spec) const override;
  std::vector<std::string> run_args(const image::RunSpec& spec) const override;
  std::vector<std::string> exec_args(const std::string& name, const ExecRequest& req,
                                     const std::string& user) const override;
  std::vector<std::string> start_args(const std::string& name) const override;
  std::vector<std::string> stop_args(const std::string& name, std::chrono::seconds grace) const override;
  std::vector<std::string> remove_args(const std::string& name) const override;
  std::vector<std::string> logs_args(const std::string& name, bool follow) const override;
  std::vector<std::string> inspect_args(const std::string& name) const override;
  std::vector<std::string> image_inspect_args(const std::string& tag) const override;
  std::vector<std::string> image_remove_args(const std::string& tag) const override;
  std::vector<std::string> volume_create_args(const std::string& name,
                                              const std::map<std::string, std::string>& labels) const override;
  std::vector<std::string> volume_remove_args(const std::string& name) const override;

  std::optional<image::ContainerInfo> parse_inspect(const std::string& output, int exit_status) const override;
  std::optional<std::map<std::string, std::string>> parse_image_inspect(const std::string& output,
                                                                        int exit_status) const override;

  std::vector<std::string> unsupported(const image::RunSpec& spec) const override;

  std::vector<std::string> version_args() const override { return apple::version_args(); }
  std::vector<std::string> info_args() const override { return system_status_args(); }
  // No overlay mount in any release: hybrid storage is refused. Volume storage is a host
  // directory the engine binds (virtiofs), as Apple's named volumes are ext4 disks it cannot read.
  bool supports_overlay_mounts() const override { return false; }
  // A new volume is an empty ext4 disk whose root is root's (0755), not the image's content.
  bool volumes_start_with_image_content() const override { return false; }

 private:
  AppleVersion version_;
};

}  // namespace cc::engine::apple
