#include "engine/native/cgroups.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "util/unique_fd.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSupervisorLeaf = "supervisor";
constexpr const char* kContainerLeaf = "container";

// Writes `value` to a cgroup control file; returns 0 or errno.
int write_control(const fs::path& file, const std::string& value) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return errno;
  return n == static_cast<ssize_t>(value.size()) ? 0 : EIO;
}

std::string read_control(const fs::path& file) { return read_cgroup_file(file); }

bool exists_quietly(const fs::path& path) { return ::access(path.c_str(), F_OK) == 0; }

bool is_cgroup2(const fs::path& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

int make_dir(const fs::path& dir) { return ::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST ? 0 : errno; }

// controller ("" for v2) -> the cgroup path of `pid`, from /proc/<pid>/cgroup.
std::map<std::string, std::string> cgroups_of(const std::string& proc_file) {
  std::map<std::string, std::string> result;
  std::istringstream in(read_cgroup_file(proc_file));
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      result[""] = path;
      continue;
    }
    std::istringstream list(controllers);
    std::string c;
    while (std::getline(list, c, ',')) result[c] = path;
  }
  return result;
}

std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
  return n;
}

std::string cpu_quota(double cpus) {
  return std::to_string(static_cast<long long>(std::llround(cpus * 100000))) + " 100000";
}

std::string format_cpus(double cpus) {
  std::ostringstream out;
  out << cpus;
  return out.str();
}

// How to get a cgroup of one's own on this machine: a delegated systemd scope where systemd
// manages cgroups, else only by whoever runs claude-container.
std::string own_cgroup_advice() {
  if (::access("/run/systemd/system", F_OK) == 0) {
    return "start it in a delegated scope of its own: `systemd-run --user --scope -p Delegate=yes claude-container "
           "start` (as root without --user)";
  }
  return "no systemd manages cgroups on this machine (/run/systemd/system is absent), so no delegated scope can be "
         "asked for; run claude-container from a cgroup of its own whose controllers are delegated to this user";
}

struct Want {
  std::string name;        // LimitStatus name
  std::string value;       // for status
  std::string controller;  // v1 and v2 alike
  std::string v2_file, v2_value;
  std::string v1_file, v1_value;
};

}  // namespace

std::string read_cgroup_file(const fs::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return "";
  std::string text;
  char buf[4096];
  ssize_t n;
  while (text.size() < (1u << 20) && ((n = ::read(fd.get(), buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))) {
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

bool has_token(std::string_view list, std::string_view token) {
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t end = list.find_first_of(" ,\n\t", pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == token) return true;
    pos = end + 1;
  }
  return false;
}

V2Placement place_in_v2_leaf(const fs::path& mount, const std::string& own, const std::string& key,
                             const std::vector<std::string>& controllers, const std::vector<pid_t>& movers) {
  V2Placement out;
  const fs::path rel = fs::path(own).relative_path();
  const fs::path d = rel.empty() ? mount : mount / rel;
  if (::access((d / "cgroup.controllers").c_str(), R_OK) != 0) {
    out.why_not = "cannot read " + (d / "cgroup.controllers").string() + " (" + std::strerror(errno) +
                  "): the cgroup v2 cgroup this process runs in is not open to this user; " + own_cgroup_advice();
    return out;
  }
  const std::string offered = read_control(d / "cgroup.controllers");
  std::vector<std::string> usable;
  std::string missing;
  for (const auto& c : controllers) {
    if (has_token(offered, c)) usable.push_back(c);
    else missing += (missing.empty() ? "" : ", ") + c;
  }
  if (usable.empty()) {
    out.why_not = "the cgroup v2 hierarchy at " + mount.string() + " offers no " + missing + " controller to " +
                  d.string() + (offered.empty() ? "" : " (it offers: " + offered.substr(0, offered.find('\n')) + ")");
    return out;
  }
  if (::access((d / "cgroup.subtree_control").c_str(), W_OK) != 0 || ::access(d.c_str(), W_OK) != 0) {
    out.why_not = "cgroup v2 " + d.string() + " is not delegated to this user (" + std::strerror(errno) + "); " +
                  own_cgroup_advice();
    return out;
  }
  const fs::path k = d / ("claude-container-" + key);
  const fs::path sup = k / kSupervisorLeaf;
  const fs::path box = k / kContainerLeaf;
  for (const auto& dir : {k, sup, box}) {
    if (int err = make_dir(dir); err != 0) {
      out.why_not = "cannot create the cgroup " + dir.string() + " (" + std::strerror(err) + ")";
      return out;
    }
  }
  // Leave D: only then may it hand controllers down. Processes elsewhere stay where they are.
  std::vector<pid_t> moved;
  for (pid_t pid : movers) {
    auto where = cgroups_of("/proc/" + std::to_string(pid == 0 ? ::getpid() : pid) + "/cgroup");
    if (!where.count("") || where[""] != own) continue;
    if (int err = write_control(sup / "cgroup.procs", std::to_string(pid)); err != 0) {
      out.why_not = "cannot move process " + std::to_string(pid) + " into " + sup.string() + " (" +
                    std::strerror(err) + ")";
      break;
    }
    moved.push_back(pid);
  }
  for (const auto& dir : {d, k}) {
    if (!out.why_not.empty()) break;
    const std::string subtree = read_control(dir / "cgroup.subtree_control");
    for (const auto& c : usable) {
      if (has_token(subtree, c)) continue;
      int err = write_control(dir / "cgroup.subtree_control", "+" + c);
      if (err == 0) continue;
      if (err == EBUSY) {
        std::size_t others = count_lines(read_control(dir / "cgroup.procs"));
        out.why_not = "cgroup v2 " + dir.string() + " still holds " + std::to_string(others) +
                      " process(es) that are not claude-container's (such as the shell that started it), and the "
                      "kernel hands no controller to the children of a cgroup with processes; " + own_cgroup_advice();
      } else {
        out.why_not = "cannot enable the " + c + " controller in " + (dir / "cgroup.subtree_control").string() +
                      " (" + std::strerror(err) + ")";
      }
      break;
    }
  }
  if (!out.why_not.empty()) {
    // Back where they were: a half-built layout must not keep the CLI or the supervisor.
    for (pid_t pid : moved) write_control(d / "cgroup.procs", std::to_string(pid));
    ::rmdir(box.c_str());
    ::rmdir(sup.c_str());
    ::rmdir(k.c_str());
    return out;
  }
  const std::string available = read_control(box / "cgroup.controllers");
  for (const auto& c : usable) {
    if (has_token(available, c)) out.enabled.push_back(c);
  }
  out.container_dir = box.string();
  if (!missing.empty()) {
    out.why_not = "the cgroup v2 hierarchy at " + mount.string() + " offers no " + missing + " controller to " + d.string();
  }
  return out;
}

CgroupSetup create_cgroups(const std::string& key, const config::Resources& res, const std::vector<pid_t>& movers) {
  CgroupSetup setup;
  const std::vector<Want> wants = {
      {"memory", res.memory_text, "memory", "memory.max", std::to_string(res.memory), "memory.limit_in_bytes",
       std::to_string(res.memory)},
      {"pids", std::to_string(res.pids), "pids", "pids.max", std::to_string(res.pids), "pids.max",
       std::to_string(res.pids)},
      {"cpus", format_cpus(res.cpus), "cpu", "cpu.max", cpu_quota(res.cpus), "cpu.cfs_quota_us",
       std::to_string(static_cast<long long>(std::llround(res.cpus * 100000)))},
  };
  const std::string leaf = "claude-container-" + key;
  auto own = cgroups_of("/proc/self/cgroup");

  // cgroup v2 first, when our cgroup offers any of the controllers.
  fs::path v2_mount;
  if (is_cgroup2("/sys/fs/cgroup")) v2_mount = "/sys/fs/cgroup";
  else if (is_cgroup2("/sys/fs/cgroup/unified")) v2_mount = "/sys/fs/cgroup/unified";
  V2Placement v2;
  if (v2_mount.empty() || !own.count("")) {
    v2.why_not = "no cgroup v2 hierarchy is mounted";
  } else {
    std::vector<std::string> controllers;
    for (const auto& want : wants) controllers.push_back(want.controller);
    v2 = place_in_v2_leaf(v2_mount, own[""], key, controllers, movers);
  }
  if (!v2.container_dir.empty()) {
    setup.dirs.push_back(v2.container_dir);
    // An OOM kill ends every process of the container together, never a host process: only
    // the container's are in this cgroup.
    if (has_token(read_control(fs::path(v2.container_dir) / "cgroup.controllers"), "memory")) {
      write_control(fs::path(v2.container_dir) / "memory.oom.group", "1");
    }
  }

  for (const auto& want : wants) {
    LimitStatus status{want.name, want.value, false, ""};
    std::string why_not;
    bool v2_has = false;
    for (const auto& c : v2.enabled) v2_has = v2_has || c == want.controller;
    if (v2_has) {
      const fs::path dir(v2.container_dir);
      int err = write_control(dir / want.v2_file, want.v2_value);
      if (err == 0 && want.name == "memory") write_control(dir / "memory.swap.max", "0");
      if (err == 0) {
        status.enforced = true;
        status.reason = "cgroup v2 " + want.controller + " controller (" + dir.string() + ")";
        if (want.name == "memory") {
          setup.memory_dir = dir.string();
          setup.memory_v2 = true;
        }
        setup.limits.push_back(status);
        continue;
      }
      why_not = "cannot write " + (dir / want.v2_file).string() + " (" + std::strerror(err) + ")";
    } else {
      why_not = v2.why_not.empty() ? "cgroup v2 offers no " + want.controller + " controller here" : v2.why_not;
    }
    // Then v1.
    fs::path v1_root = fs::path("/sys/fs/cgroup") / want.controller;
    struct stat v1_st {};
    const bool v1_dir = ::stat(v1_root.c_str(), &v1_st) == 0 && S_ISDIR(v1_st.st_mode);
    if (own.count(want.controller) && v1_dir && !is_cgroup2(v1_root)) {
      fs::path dir = v1_root / fs::path(own[want.controller]).relative_path() / leaf;
      int err = make_dir(dir);
      if (err == 0 && want.name == "cpus") err = write_control(dir / "cpu.cfs_period_us", "100000");
      if (err == 0) err = write_control(dir / want.v1_file, want.v1_value);
      if (err == 0) {
        // Without swap accounting the file is absent; with it, the limit covers swap too.
        if (want.name == "memory" && exists_quietly(dir / "memory.memsw.limit_in_bytes")) {
          write_control(dir / "memory.memsw.limit_in_bytes", want.v1_value);
        }
        status.enforced = true;
        status.reason = "cgroup v1 " + want.controller + " controller (" + dir.string() + ")";
        if (want.name == "memory") setup.memory_dir = dir.string();
        bool known = false;
        for (const auto& d : setup.dirs) known = known || d == dir.string();
        if (!known) setup.dirs.push_back(dir.string());
        setup.limits.push_back(status);
        continue;
      }
      why_not += "; cgroup v1 " + want.controller + ": cannot write " + dir.string() + " (" + std::strerror(err) +
                 (err == EACCES || err == EPERM || err == EROFS ? ", needs root" : "") + ")";
    }
    // What holds instead (resource_limits.hpp), so that status tells the whole truth.
    if (want.name == "memory") why_not += "; nothing else bounds the container's memory (its tmpfs mounts have sizes)";
    if (want.name == "pids") why_not += "; RLIMIT_NPROC still bounds the processes of each uid inside";
    if (want.name == "cpus") why_not += "; nothing else bounds its CPU time";
    status.reason = why_not;
    setup.limits.push_back(status);
  }
  return setup;
}

std::string join_cgroups(const std::vector<std::string>& dirs, pid_t pid) {
  for (const auto& dir : dirs) {
    int err = write_control(fs::path(dir) / "cgroup.procs", std::to_string(pid));
    if (err != 0) return "cannot move process " + std::to_string(pid) + " into " + dir + ": " + std::strerror(err);
  }
  return "";
}

bool is_container_cgroup(const std::string& dir, const std::string& key) {
  const fs::path path(dir);
  if (dir.rfind("/sys/fs/cgroup/", 0) != 0) return false;
  const std::string leaf = "claude-container-" + key;
  const bool v1 = path.filename() == leaf;
  const bool v2 = path.filename() == kContainerLeaf && path.parent_path().filename() == leaf;
  if (!v1 && !v2) return false;
  for (const auto& part : path) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

void remove_cgroup_dir(const std::string& dir) {
  if (dir.empty()) return;
  ::rmdir(dir.c_str());
  const fs::path path(dir);
  if (path.filename() == kContainerLeaf) {
    // The supervisor leaf empties when the supervisor exits; both go with their parent.
    ::rmdir((path.parent_path() / kSupervisorLeaf).c_str());
    ::rmdir(path.parent_path().c_str());
  }
}

}  // namespace cc::engine::native
