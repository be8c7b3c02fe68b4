#include "engine/native/cgroups.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

// Writes `value` to a cgroup control file; returns 0 or errno.
int write_control(const fs::path& file, const std::string& value) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return errno;
  return n == static_cast<ssize_t>(value.size()) ? 0 : EIO;
}

bool is_cgroup2(const fs::path& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

// controller ("" for v2) -> our cgroup path, from /proc/self/cgroup.
std::map<std::string, std::string> own_cgroups() {
  std::map<std::string, std::string> result;
  auto text = read_file_if_exists("/proc/self/cgroup");
  if (!text) return result;
  std::istringstream in(*text);
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

std::string cpu_quota(double cpus) {
  return std::to_string(static_cast<long long>(std::llround(cpus * 100000))) + " 100000";
}

std::string format_cpus(double cpus) {
  std::ostringstream out;
  out << cpus;
  return out.str();
}

struct Want {
  std::string name;        // LimitStatus name
  std::string value;       // for status
  std::string v2_file, v2_value;
  std::string v1_controller, v1_file, v1_value;
};

}  // namespace

CgroupSetup create_cgroups(const std::string& name, const config::Resources& res) {
  CgroupSetup setup;
  std::vector<Want> wants = {
      {"memory", res.memory_text, "memory.max", std::to_string(res.memory), "memory", "memory.limit_in_bytes",
       std::to_string(res.memory)},
      {"pids", std::to_string(res.pids), "pids.max", std::to_string(res.pids), "pids", "pids.max",
       std::to_string(res.pids)},
      {"cpus", format_cpus(res.cpus), "cpu.max", cpu_quota(res.cpus), "cpu", "cpu.cfs_quota_us",
       std::to_string(static_cast<long long>(std::llround(res.cpus * 100000)))},
  };
  const std::string leaf = "claude-container-" + name;
  auto own = own_cgroups();

  // cgroup v2: usable when our cgroup's directory is writable and offers the controller.
  fs::path v2_mount;
  if (is_cgroup2("/sys/fs/cgroup")) v2_mount = "/sys/fs/cgroup";
  else if (is_cgroup2("/sys/fs/cgroup/unified")) v2_mount = "/sys/fs/cgroup/unified";
  std::string v2_controllers;
  fs::path v2_parent;
  if (!v2_mount.empty() && own.count("")) {
    v2_parent = v2_mount / fs::path(own[""]).relative_path();
    v2_controllers = read_file_if_exists(v2_parent / "cgroup.controllers").value_or("");
  }
  fs::path v2_dir;
  bool v2_dir_made = false;

  for (const auto& want : wants) {
    LimitStatus status{want.name, want.value, false, ""};
    std::string v2_ctrl = want.v1_controller;
    std::string why_not;
    // Try v2 first.
    if (!v2_parent.empty() && (" " + v2_controllers + " ").find(" " + v2_ctrl) != std::string::npos) {
      // Enable the controller for children (fails when our own cgroup holds processes and is not the root).
      auto subtree = read_file_if_exists(v2_parent / "cgroup.subtree_control").value_or("");
      int err = 0;
      if (subtree.find(v2_ctrl) == std::string::npos) err = write_control(v2_parent / "cgroup.subtree_control", "+" + v2_ctrl);
      if (err == 0) {
        v2_dir = v2_parent / leaf;
        if (!v2_dir_made && ::mkdir(v2_dir.c_str(), 0755) != 0 && errno != EEXIST) err = errno;
        else v2_dir_made = true;
      }
      if (err == 0) err = write_control(v2_dir / want.v2_file, want.v2_value);
      if (err == 0) {
        status.enforced = true;
        status.reason = "cgroup v2 (" + v2_dir.string() + ")";
        setup.limits.push_back(status);
        continue;
      }
      why_not = err == EBUSY
                    ? "cgroup v2 " + v2_parent.string() + " holds processes, so it cannot hand the " + v2_ctrl +
                          " controller to a child; start from a delegated scope (systemd-run --user --scope -p "
                          "Delegate=yes claude-container start)"
                    : "cgroup v2 " + v2_parent.string() + " is not delegated to this user (" + std::strerror(err) + ")";
    } else if (!v2_parent.empty()) {
      why_not = "the cgroup v2 hierarchy at " + v2_mount.string() + " offers no " + v2_ctrl + " controller here";
    } else {
      why_not = "no cgroup v2 hierarchy is mounted";
    }
    // Then v1.
    fs::path v1_root = fs::path("/sys/fs/cgroup") / want.v1_controller;
    if (own.count(want.v1_controller) && fs::is_directory(v1_root) && !is_cgroup2(v1_root)) {
      fs::path dir = v1_root / fs::path(own[want.v1_controller]).relative_path() / leaf;
      int err = 0;
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) err = errno;
      if (err == 0 && want.name == "cpus") err = write_control(dir / "cpu.cfs_period_us", "100000");
      if (err == 0) err = write_control(dir / want.v1_file, want.v1_value);
      if (err == 0) {
        status.enforced = true;
        status.reason = "cgroup v1 (" + dir.string() + ")";
        bool known = false;
        for (const auto& d : setup.dirs) known = known || d == dir.string();
        if (!known) setup.dirs.push_back(dir.string());
        setup.limits.push_back(status);
        continue;
      }
      why_not += "; cgroup v1 " + want.v1_controller + ": cannot write " + dir.string() + " (" + std::strerror(err) +
                 (err == EACCES || err == EPERM || err == EROFS ? ", needs root" : "") + ")";
    }
    status.reason = why_not;
    setup.limits.push_back(status);
  }
  if (v2_dir_made) setup.dirs.push_back(v2_dir.string());
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
  if (dir.rfind("/sys/fs/cgroup/", 0) != 0 || path.filename() != "claude-container-" + key) return false;
  for (const auto& part : path) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

void remove_cgroup_dir(const std::string& dir) {
  if (!dir.empty()) ::rmdir(dir.c_str());
}

}  // namespace cc::engine::native
