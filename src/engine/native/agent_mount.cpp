#include "engine/native/agent_mount.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "engine/native/environment.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& path, const fs::path& dir) {
  auto rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

// The host directories the `host` image shares read-only at the same place (rootfs.cpp).
bool visible_in_host_image(const fs::path& path) {
  for (const char* dir : {"/usr", "/opt", "/bin", "/sbin", "/lib", "/lib64"}) {
    std::error_code ec;
    if (fs::symlink_status(dir, ec).type() == fs::file_type::directory && inside(path, dir)) return true;
  }
  return false;
}

// A `claude` in one of the container's PATH directories that runs `exe` (seen from the host,
// since those directories are the host's).
bool on_container_path(const fs::path& exe) {
  for (const auto& dir : container_path_dirs()) {
    if (dir == kAgentBinDir) continue;
    std::error_code ec;
    fs::path real = fs::canonical(fs::path(dir) / "claude", ec);
    if (!ec && real == exe) return true;
  }
  return false;
}

// What a subordinate id (an "other" to every file on the host) may do: traverse each directory
// from `top` down, then read and execute the file (a native build reads itself).
std::string unreachable_part(const fs::path& top, const fs::path& exe) {
  struct stat st {};
  fs::path at = top;
  if (::stat(at.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return at.string();
  for (const auto& part : exe.lexically_relative(top)) {
    at /= part;
    if (::stat(at.c_str(), &st) != 0) return at.string();
    bool last = at == exe;
    mode_t need = last ? (S_IROTH | S_IXOTH) : S_IXOTH;
    if ((st.st_mode & need) != need) return at.string();
  }
  return "";
}

}  // namespace

std::vector<std::string> plan_agent_mount(RootfsPlan& plan, const integrations::AgentInstall& install,
                                          bool subordinate_ids) {
  std::vector<std::string> notes;
  auto add = [&](MountStep::Kind kind, std::string source, const std::string& target, mode_t mode = 0755) {
    MountStep step{kind, std::move(source), "." + target, "", "", mode};
    plan.steps.push_back(std::move(step));
  };
  const bool visible = visible_in_host_image(install.executable);
  if (subordinate_ids) {
    fs::path top = visible ? fs::path("/") : install.install_dir;
    if (auto part = unreachable_part(top, install.executable); !part.empty()) {
      notes.push_back("Claude Code at " + install.executable.string() +
                      " cannot be run inside: as root the container runs as a subordinate id, and " + part +
                      " is not readable and executable by others; run `chmod -R o+rX " + install.install_dir.string() +
                      "` (or install Claude Code with `npm install -g @anthropic-ai/claude-code`)");
    }
  }
  if (visible && on_container_path(install.executable)) return notes;
  add(MountStep::Kind::mkdir, "", kAgentDir);
  std::string target = install.executable.string();
  if (!visible) {
    add(MountStep::Kind::bind_ro, install.install_dir.string(), kAgentInstallDir);
    // Opened with the host's ids: a home directory is not traversable by a subordinate id.
    plan.steps.back().host_ids = true;
    plan.described.push_back({kAgentInstallDir, install.install_dir.string() + " (Claude Code)", true});
    target = (fs::path(kAgentInstallDir) / install.executable.lexically_relative(install.install_dir)).string();
  }
  add(MountStep::Kind::mkdir, "", kAgentBinDir);
  add(MountStep::Kind::symlink, target, std::string(kAgentBinDir) + "/claude");
  return notes;
}

}  // namespace cc::engine::native
