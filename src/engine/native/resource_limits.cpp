#include "engine/native/resource_limits.hpp"

#include <cerrno>
#include <sstream>

#include "engine/native/cgroups.hpp"
#include "engine/native/rootfs.hpp"

namespace cc::engine::native {

namespace {

constexpr rlim_t kNofile = 65536;
constexpr std::uint64_t kRunMax = 64ull << 20;
constexpr std::uint64_t kTmpfsMin = 1ull << 20;

std::string rlim_text(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("inherited") : std::to_string(static_cast<unsigned long long>(value));
}

std::string size_text(std::uint64_t bytes) { return config::format_memory(bytes); }

}  // namespace

RlimitPlan plan_rlimits(const config::Resources& resources) {
  RlimitPlan plan;
  plan.nproc = static_cast<rlim_t>(resources.pids);
  // Inside a user namespace the hard limit cannot be raised: stay at the host's when lower.
  struct rlimit current {};
  plan.nofile = kNofile;
  if (::getrlimit(RLIMIT_NOFILE, &current) == 0 && current.rlim_max != RLIM_INFINITY && current.rlim_max < kNofile) {
    plan.nofile = current.rlim_max;
  }
  plan.fsize = static_cast<rlim_t>(resources.memory) * 4;
  return plan;
}

int apply_rlimits(const RlimitPlan& plan, const char** what) noexcept {
  struct rlimit no_core = {0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) { *what = "setrlimit(RLIMIT_CORE)"; return errno; }
  // RLIM_INFINITY: left as inherited (raising a hard limit needs a capability we lack inside).
  const struct {
    decltype(RLIMIT_NPROC) resource;
    rlim_t value;
    const char* name;
  } wanted[] = {{RLIMIT_NPROC, plan.nproc, "setrlimit(RLIMIT_NPROC)"},
                {RLIMIT_NOFILE, plan.nofile, "setrlimit(RLIMIT_NOFILE)"},
                {RLIMIT_FSIZE, plan.fsize, "setrlimit(RLIMIT_FSIZE)"}};
  for (const auto& w : wanted) {
    if (w.value == RLIM_INFINITY) continue;
    struct rlimit limit = {w.value, w.value};
    if (::setrlimit(w.resource, &limit) != 0) {
      *what = w.name;
      return errno;
    }
  }
  return 0;
}

std::vector<LimitStatus> rlimit_status(const RlimitPlan& plan) {
  return {
      {"rlimit_nproc", rlim_text(plan.nproc), true,
       "RLIMIT_NPROC on every process inside: at most this many processes per uid of the container's user namespace "
       "(the floor under the pids cgroup, and the only process bound without one)"},
      {"rlimit_nofile", rlim_text(plan.nofile), true, "RLIMIT_NOFILE: open files per process"},
      {"rlimit_fsize", rlim_text(plan.fsize), true,
       "RLIMIT_FSIZE: the largest file a process may write (4 x memory); beyond it the write fails with EFBIG"},
      {"rlimit_core", "0", true, "RLIMIT_CORE: no core dumps"},
  };
}

std::vector<TmpfsSize> tmpfs_sizes(const config::Resources& resources) {
  auto at_least = [](std::uint64_t v) { return v < kTmpfsMin ? kTmpfsMin : v; };
  const std::uint64_t m = resources.memory;
  return {{"/tmp", at_least(m / 2)},
          {"/var", at_least(m / 4)},
          {"/dev/shm", at_least(m / 4)},
          {"/run", at_least(m / 8 < kRunMax ? m / 8 : kRunMax)}};
}

void size_tmpfs_mounts(RootfsPlan& plan, const config::Resources& resources) {
  for (const auto& size : tmpfs_sizes(resources)) {
    for (auto& step : plan.steps) {
      // Targets are relative to the new root (rootfs.hpp).
      if (step.kind != MountStep::Kind::tmpfs || step.target != std::string(".") + size.target) continue;
      step.source += (step.source.empty() ? "" : ",") + std::string("size=") + std::to_string(size.bytes);
    }
    for (auto& mount : plan.described) {
      if (mount.destination == size.target && mount.source == "tmpfs") mount.source += ", size " + size_text(size.bytes);
    }
  }
}

std::vector<LimitStatus> tmpfs_status(const config::Resources& resources) {
  std::vector<LimitStatus> out;
  for (const auto& size : tmpfs_sizes(resources)) {
    out.push_back({std::string("tmpfs ") + size.target, size_text(size.bytes), true,
                   "tmpfs size=: writes beyond it fail with ENOSPC"});
  }
  return out;
}

void verify_cgroup_limits(const std::string& proc_cgroup, const std::vector<std::string>& dirs,
                          std::vector<LimitStatus>& limits) {
  // controller -> path, "" for v2.
  std::vector<std::pair<std::string, std::string>> lines;
  std::istringstream in(proc_cgroup);
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    lines.emplace_back(line.substr(first + 1, second - first - 1), line.substr(second + 1));
  }
  for (auto& limit : limits) {
    const bool v1 = limit.reason.rfind("cgroup v1 ", 0) == 0;
    const bool v2 = limit.reason.rfind("cgroup v2 ", 0) == 0;
    if (!limit.enforced || (!v1 && !v2)) continue;
    const std::string controller = limit.reason.substr(10, limit.reason.find(' ', 10) - 10);
    const auto open = limit.reason.rfind('(');
    std::string dir = open == std::string::npos ? "" : limit.reason.substr(open + 1);
    if (!dir.empty() && dir.back() == ')') dir.pop_back();
    bool known = false;
    for (const auto& d : dirs) known = known || d == dir;
    std::string mount = "/sys/fs/cgroup/" + controller;
    if (v2) mount = dir.rfind("/sys/fs/cgroup/unified/", 0) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
    std::string expected = dir.rfind(mount + "/", 0) == 0 ? dir.substr(mount.size()) : "";
    std::string actual;
    bool found = false;
    for (const auto& [controllers, path] : lines) {
      if ((v2 && controllers.empty()) || (v1 && has_token(controllers, controller))) {
        actual = path;
        found = true;
      }
    }
    if (known && !expected.empty() && found && actual == expected) continue;
    limit.enforced = false;
    limit.reason = "pid 1 is not in " + (dir.empty() ? std::string("the cgroup") : dir) +
                   (found ? " (its " + controller + " cgroup is " + actual + ")" : " (it has no " + controller + " cgroup)");
  }
}

}  // namespace cc::engine::native
