// doctor for the native engine: what it needs from this machine and has no fallback for,
// each checked for real (a namespace created, a system call tried in a child, a cgroup made).
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "config/container_env.hpp"
#include "engine/native/native_engine.hpp"
#include "integrations/agent_install.hpp"
#include "net/pasta.hpp"
#include "util/file_io.hpp"

namespace cc::engine::native {

namespace {

namespace fs = std::filesystem;
using Level = CheckLevel;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::optional<std::string> read_trimmed(const fs::path& path) {
  auto text = read_file_if_exists(path);
  if (!text) return std::nullopt;
  return trimmed(*text);
}

// Runs `probe` in a forked child and returns its exit status, or -signal when it was killed
// (a seccomp filter of whatever runs doctor may kill instead of failing the call).
template <typename Probe>
int in_child(Probe probe) {
  pid_t child = ::fork();
  if (child < 0) return errno;
  if (child == 0) ::_exit(probe() & 0xff);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

void check_user_namespaces(std::vector<PreflightCheck>& checks) {
  // Creating one for real is the only answer that covers every kernel knob and LSM.
  int err = in_child([] { return ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno; });
  PreflightCheck check{"user namespaces", Level::ok, "a user namespace can be created", ""};
  if (err != 0) {
    check.level = Level::fail;
    check.detail = "creating a user namespace failed: " +
                   (err > 0 ? std::string(std::strerror(err)) : "killed by signal " + std::to_string(-err));
    check.fix = "allow unprivileged user namespaces (see the kernel settings below)";
  }
  checks.push_back(check);

  if (auto clone = read_trimmed("/proc/sys/kernel/unprivileged_userns_clone")) {
    bool allowed = *clone != "0";
    checks.push_back({"kernel.unprivileged_userns_clone", allowed || ::geteuid() == 0 ? Level::ok : Level::fail,
                      "is " + *clone,
                      allowed ? "" : "sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)"});
  }
  if (auto max = read_trimmed("/proc/sys/user/max_user_namespaces")) {
    bool allowed = *max != "0";
    checks.push_back({"user.max_user_namespaces", allowed ? Level::ok : Level::fail, "is " + *max,
                      allowed ? "" : "sudo sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)"});
  }
  if (auto restrict = read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")) {
    bool restricted = *restrict == "1";
    Level level = !restricted ? Level::ok : (err == 0 ? Level::warn : Level::fail);
    checks.push_back(
        {"AppArmor restrict_unprivileged_userns", level, restricted ? "is 1 (restricted)" : "is " + *restrict,
         restricted ? "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile that "
                      "grants `userns,` to the claude-container binary"
                    : ""});
  }
}

// The system calls the engine uses with no fallback, each called in a child with arguments
// that change nothing (a bad descriptor, a too small size): only ENOSYS means it is missing.
struct SyscallProbe {
  const char* name;
  const char* since;  // the kernel that added it
  const char* use;
  long (*call)();
};

const SyscallProbe kSyscalls[] = {
    {"open_tree", "5.2", "every bind mount of the root filesystem",
     [] { return ::syscall(SYS_open_tree, -1, "", 0); }},
    {"move_mount", "5.2", "attaching the root filesystem's mounts",
     [] { return ::syscall(SYS_move_mount, -1, "", -1, "", 0); }},
    {"fsopen", "5.2", "the root tmpfs and the overlay workspace", [] { return ::syscall(SYS_fsopen, nullptr, 0); }},
    {"mount_setattr", "5.12", "read-only and idmapped mounts",
     [] { return ::syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0); }},
    {"openat2", "5.6", "resolving paths beneath the project without following links",
     [] { return ::syscall(SYS_openat2, -1, "", nullptr, 0); }},
    {"clone3", "5.3", "creating the container's namespaces", [] { return ::syscall(SYS_clone3, nullptr, 0); }},
    {"pidfd_open", "5.3", "following the container's processes without pid reuse races",
     [] { return ::syscall(SYS_pidfd_open, -1, 0); }},
    {"close_range", "5.9", "closing inherited descriptors before a command runs",
     [] { return ::syscall(SYS_close_range, 3, 2, 0); }},
};

void check_syscalls(std::vector<PreflightCheck>& checks) {
  for (const auto& probe : kSyscalls) {
    int result = in_child([&] { return probe.call() < 0 && errno == ENOSYS ? 1 : 0; });
    PreflightCheck check{std::string("system call ") + probe.name, Level::ok, "available", ""};
    if (result != 0) {
      check.level = Level::fail;
      check.detail = result < 0 ? "calling it killed the probe (signal " + std::to_string(-result) +
                                      "): a seccomp filter around claude-container forbids it"
                                : std::string("missing (ENOSYS); needed for ") + probe.use;
      check.fix = result < 0 ? "run claude-container outside that sandbox, or allow the call in its profile"
                             : std::string("use Linux ") + probe.since + " or newer";
    }
    checks.push_back(check);
  }
}

void check_landlock(std::vector<PreflightCheck>& checks) {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  int err = errno;
  if (abi > 0) {
    checks.push_back({"Landlock", Level::ok, "ABI " + std::to_string(abi) + ": writes inside are confined", ""});
    return;
  }
  checks.push_back({"Landlock", Level::warn,
                    err == EOPNOTSUPP ? "built into the kernel but disabled at boot; writes inside are confined by "
                                        "mounts only"
                                      : "this kernel has no Landlock (" + std::string(std::strerror(err)) +
                                            "); writes inside are confined by mounts only",
                    err == EOPNOTSUPP ? "add landlock to the lsm= kernel parameter (see /sys/kernel/security/lsm)"
                                      : "use Linux 5.13 or newer built with CONFIG_SECURITY_LANDLOCK"});
}

void check_seccomp(std::vector<PreflightCheck>& checks) {
  bool available = fs::exists("/proc/sys/kernel/seccomp/actions_avail") || ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  checks.push_back({"seccomp", available ? Level::ok : Level::fail,
                    available ? "seccomp filters are supported" : "the kernel does not support seccomp",
                    available ? "" : "use a kernel built with CONFIG_SECCOMP_FILTER"});
}

void check_overlayfs(std::vector<PreflightCheck>& checks, bool hybrid_storage) {
  auto filesystems = read_file_if_exists("/proc/filesystems").value_or("");
  bool present = filesystems.find("\toverlay") != std::string::npos;
  checks.push_back({"overlayfs", present ? Level::ok : (hybrid_storage ? Level::fail : Level::warn),
                    present ? "available" : "not listed in /proc/filesystems (hybrid storage needs it)",
                    present ? "" : "sudo modprobe overlay"});
}

bool is_cgroup2(const fs::path& path) {
  return fs::exists(path / "cgroup.controllers") && !fs::exists(path / "tasks");
}

// controller ("" for the v2 hierarchy) -> this process's cgroup path.
std::map<std::string, std::string> own_cgroups() {
  std::map<std::string, std::string> out;
  std::istringstream in(read_file_if_exists("/proc/self/cgroup").value_or(""));
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::istringstream controllers(line.substr(first + 1, second - first - 1));
    std::string path = line.substr(second + 1);
    if (second == first + 1) out[""] = path;
    for (std::string c; std::getline(controllers, c, ',');) out[c] = path;
  }
  return out;
}

// A leaf of our own, made and removed again: whether this user may create cgroups here at all.
int probe_leaf(const fs::path& parent, const std::function<int(const fs::path&)>& inside) {
  fs::path leaf = parent / ("claude-container-doctor-" + std::to_string(::getpid()));
  if (::mkdir(leaf.c_str(), 0755) != 0) return errno;
  int err = inside ? inside(leaf) : 0;
  ::rmdir(leaf.c_str());
  return err;
}

int write_control(const fs::path& file, const std::string& value) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size()) ? 0 : errno;
  ::close(fd);
  return err;
}

const char* const kControllers[] = {"memory", "pids", "cpu"};
const char* const kScopeFix =
    "run from a delegated scope: systemd-run --user --scope -p Delegate=yes claude-container start";

// cgroup v2's delegation rule: controllers reach a cgroup only through its parent's
// cgroup.subtree_control, and a cgroup holding processes cannot hand them on. So the test is
// a leaf of our own: can it be made, and can its cgroup.subtree_control take each controller
// our cgroup offers.
bool check_cgroup_v2(std::vector<PreflightCheck>& checks, const fs::path& mount, const std::string& own,
                     const std::string& label) {
  fs::path relative = fs::path(own).relative_path();
  fs::path dir = relative.empty() ? mount : mount / relative;
  std::string offered = " " + read_trimmed(dir / "cgroup.controllers").value_or("") + " ";
  std::string missing, refused;
  int made = probe_leaf(dir, [&](const fs::path& leaf) {
    for (const char* c : kControllers) {
      if (offered.find(std::string(" ") + c + " ") == std::string::npos) {
        missing += std::string(" ") + c;
      } else if (int err = write_control(leaf / "cgroup.subtree_control", std::string("+") + c); err != 0) {
        // ENOENT: the leaf did not get it, because our cgroup's own cgroup.subtree_control
        // lacks it (a cgroup that holds processes, as a login shell's does, cannot add it).
        refused += std::string(" ") + c + (err == ENOENT ? "" : " (" + std::string(std::strerror(err)) + ")");
      }
    }
    return 0;
  });
  if (made != 0) {
    checks.push_back({label, Level::warn,
                      "cannot create a cgroup in " + dir.string() + " (" + std::strerror(made) +
                          "): it is not delegated to this user; memory, pids and CPU limits will not be enforced",
                      kScopeFix});
    return false;
  }
  if (missing.empty() && refused.empty()) {
    checks.push_back({label, Level::ok, dir.string() + " is delegated: a leaf of it enables memory, pids and cpu", ""});
    return true;
  }
  std::string detail = dir.string() + " is delegated but";
  if (!missing.empty()) detail += " offers no" + missing;
  if (!missing.empty() && !refused.empty()) detail += " and";
  if (!refused.empty()) {
    detail += " hands no" + refused + " on to a cgroup made in it (cgroup.subtree_control; a cgroup holding "
              "processes cannot enable controllers for its children)";
  }
  checks.push_back({label, Level::warn, detail + "; those limits will not be enforced", kScopeFix});
  return false;
}

void check_cgroups(std::vector<PreflightCheck>& checks) {
  auto own = own_cgroups();
  fs::path unified;
  if (is_cgroup2("/sys/fs/cgroup")) unified = "/sys/fs/cgroup";
  else if (is_cgroup2("/sys/fs/cgroup/unified")) unified = "/sys/fs/cgroup/unified";
  if (unified == "/sys/fs/cgroup") {
    check_cgroup_v2(checks, unified, own.count("") ? own[""] : "/", "cgroup v2 delegation");
    return;
  }
  // v1 or hybrid: the v1 hierarchies hold the controllers (a hybrid's unified tree, if any,
  // has none to give). Limits work where this user may create a group in each.
  std::string usable, unusable;
  for (const char* controller : kControllers) {
    fs::path root = fs::path("/sys/fs/cgroup") / controller;
    int err = ENOENT;
    if (own.count(controller) && fs::is_directory(root) && !is_cgroup2(root)) {
      err = probe_leaf(root / fs::path(own[controller]).relative_path(), nullptr);
    }
    (err == 0 ? usable : unusable) += std::string(" ") + controller + (err == 0 ? "" : " (" + std::string(std::strerror(err)) + ")");
  }
  std::string label = unified.empty() ? "cgroups (v1)" : "cgroups (hybrid: v1 controllers)";
  if (unusable.empty()) {
    checks.push_back({label, Level::ok, "this user can create groups in the memory, pids and cpu hierarchies", ""});
    return;
  }
  checks.push_back({label, Level::warn,
                    "cannot create a group for:" + unusable + "; those limits will not be enforced",
                    "boot with systemd.unified_cgroup_hierarchy=1 and " + std::string(kScopeFix)});
}

void check_pasta(std::vector<PreflightCheck>& checks) {
  auto path = net::find_pasta();
  checks.push_back({"pasta", path ? Level::ok : Level::warn,
                    path ? *path : "not found (network policy `full` falls back to the host's network)",
                    path ? "" : "sudo apt-get install passt"});
}

// The native engine runs the host's Claude Code inside.
void check_claude_code(std::vector<PreflightCheck>& checks) {
  auto install = integrations::find_claude_code(config::host_environment());
  checks.push_back({"Claude Code", install ? Level::ok : Level::warn,
                    install ? integrations::describe(*install) : "not found (`claude-container claude` needs it)",
                    install ? "" : "npm install -g @anthropic-ai/claude-code (or Anthropic's native installer)"});
}

}  // namespace

Preflight NativeEngine::preflight(const ProjectContext* ctx) {
  Preflight result{name(), {}};
  auto& checks = result.checks;
  check_user_namespaces(checks);
  check_syscalls(checks);
  check_seccomp(checks);
  check_landlock(checks);
  check_overlayfs(checks, ctx != nullptr && ctx->config.storage.type == config::StorageType::hybrid);
  check_cgroups(checks);
  check_pasta(checks);
  check_claude_code(checks);
  return result;
}

}  // namespace cc::engine::native
