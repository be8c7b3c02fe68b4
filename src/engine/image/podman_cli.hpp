#pragma once
// Podman's dialect (4.3, Debian's package, and later): docker's flags plus what only podman
// has or needs. Hybrid storage: a `:O` overlay mount whose upper and work directories are
// ours, so the changes persist across stop/start and diff/apply read them as on the native
// engine. Host quirks, detected once (see DESIGN.md section 5, "Image engines"):
// - a cgroup v1/v2 hybrid host (cgroup2 mounted beside v1 controllers): crun refuses it, so
//   every podman invocation runs in a private mount namespace with a pure cgroup2 mount at
//   /sys/fs/cgroup (needs root) and containers run with --cgroups=disabled (no cpus, memory or
//   pids limits; start and status say so), and build RUN steps use chroot isolation;
// - podman's default rlimits (nofile 1048576) above this host's hard limits, which a process
//   without CAP_SYS_RESOURCE cannot raise: explicit --ulimit nofile/nproc at the hard limits.
#include <string>
#include <vector>

#include "engine/image/oci_cli.hpp"

namespace cc::engine::image {

// How this host's cgroups are laid out, from /proc/self/mountinfo and /sys/fs/cgroup.
enum class CgroupLayout { unified, legacy, hybrid };
CgroupLayout detect_cgroup_layout();
std::string to_string(CgroupLayout layout);

// The settings podman needs on this host (see above).
OciHostSettings podman_host_settings();

class PodmanCli final : public OciCli {
 public:
  explicit PodmanCli(OciHostSettings settings, CgroupLayout layout = CgroupLayout::unified)
      : OciCli(std::move(settings)), layout_(layout) {}
  std::string engine_name() const override { return "podman"; }
  std::string program() const override { return "podman"; }
  bool supports_overlay_mounts() const override { return true; }
  bool needs_private_cgroup2() const override { return layout_ == CgroupLayout::hybrid; }
  std::vector<PreflightCheck> host_checks() const override;

 private:
  CgroupLayout layout_;
};

// The podman engine's dialect with this host's settings.
std::unique_ptr<ContainerCli> make_podman_cli();

}  // namespace cc::engine::image
