#include "engine/image/podman_cli.hpp"

#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace cc::engine::image {

namespace {

// The highest limit a container may ask for without CAP_SYS_RESOURCE: this process's hard
// limit, capped at what podman would choose itself.
std::string ulimit_at_hard(const char* name, int resource, rlim_t cap) {
  struct rlimit rl {};
  rlim_t value = cap;
  if (::getrlimit(resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < cap) value = rl.rlim_max;
  const std::string v = std::to_string(static_cast<unsigned long long>(value));
  return std::string(name) + "=" + v + ":" + v;
}

}  // namespace

CgroupLayout detect_cgroup_layout() {
  struct statfs st {};
  if (::statfs("/sys/fs/cgroup", &st) == 0 && static_cast<unsigned long>(st.f_type) == CGROUP2_SUPER_MAGIC) {
    return CgroupLayout::unified;
  }
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "... - cgroup2 cgroup2 rw": the filesystem type follows the " - " separator.
    auto sep = line.find(" - ");
    if (sep != std::string::npos && line.compare(sep + 3, 8, "cgroup2 ") == 0) return CgroupLayout::hybrid;
  }
  return CgroupLayout::legacy;
}

std::string to_string(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::unified: return "cgroup v2 (unified)";
    case CgroupLayout::legacy: return "cgroup v1";
    case CgroupLayout::hybrid: return "cgroup v1 and v2 mixed (hybrid)";
  }
  return "unknown";
}

OciHostSettings podman_host_settings() {
  OciHostSettings s;
  if (detect_cgroup_layout() == CgroupLayout::hybrid) {
    s.cgroups_disabled = true;
    s.cgroups_reason =
        "this host mixes cgroup v1 and v2, which podman's runtime refuses, so containers run with "
        "--cgroups=disabled and their cpus, memory and pids limits cannot be set";
    s.build_isolation = "chroot";
  }
  // podman (4.3) lowers its own nproc to 32768 before it starts the runtime; asking for more
  // fails without CAP_SYS_RESOURCE.
  s.ulimits = {ulimit_at_hard("nofile", RLIMIT_NOFILE, 1048576), ulimit_at_hard("nproc", RLIMIT_NPROC, 32768)};
  s.build_ulimits = s.ulimits;
  s.keep_id = ::geteuid() != 0;
  return s;
}

std::vector<PreflightCheck> PodmanCli::host_checks() const {
  std::vector<PreflightCheck> out;
  PreflightCheck cg{"cgroups", CheckLevel::ok, to_string(layout_), ""};
  if (layout_ == CgroupLayout::hybrid) {
    cg.level = ::geteuid() == 0 ? CheckLevel::warn : CheckLevel::fail;
    cg.detail += ": podman runs in a private mount namespace with cgroup2 at /sys/fs/cgroup and containers run "
                 "with --cgroups=disabled, so cpus, memory and pids limits are not enforced";
    cg.fix = ::geteuid() == 0 ? "boot with a unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1) to "
                                "enforce resource limits"
                              : "run as root, or boot with a unified cgroup hierarchy "
                                "(systemd.unified_cgroup_hierarchy=1)";
  }
  out.push_back(cg);
  std::string limits;
  for (const auto& u : settings().ulimits) limits += (limits.empty() ? "" : ", ") + u;
  out.push_back({"rlimits", CheckLevel::ok, "containers get " + limits + " (this host's hard limits)", ""});
  return out;
}

std::unique_ptr<ContainerCli> make_podman_cli() {
  return std::make_unique<PodmanCli>(podman_host_settings(), detect_cgroup_layout());
}

}  // namespace cc::engine::image
