#include "support/podman_base_image.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/run_command.hpp"
#include "util/unique_fd.hpp"

namespace cc::test {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPodman = "/usr/bin/podman";
constexpr const char* kMmdebstrap = "/usr/bin/mmdebstrap";
constexpr const char* kSystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fs::path cache_dir() {
  if (const char* dir = std::getenv("CC_TEST_CACHE_DIR"); dir != nullptr && dir[0] == '/') return dir;
  return "/var/cache/claude-container-tests";
}

// This host's release name (VERSION_CODENAME in /etc/os-release).
std::string host_codename() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VERSION_CODENAME=", 0) == 0) {
      std::string v = line.substr(17);
      if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

// The host's own apt sources (mmdebstrap pastes a file given as mirror into the chroot).
std::string host_sources() {
  for (const char* file : {"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"}) {
    std::error_code ec;
    if (fs::is_regular_file(file, ec) && fs::file_size(file, ec) > 0) return file;
  }
  return "";
}

}  // namespace

std::string podman_unavailable_reason() {
  if (::access(kPodman, X_OK) != 0) return "podman is not installed (apt install podman)";
  if (::access(kMmdebstrap, X_OK) != 0) return "mmdebstrap is not installed (apt install mmdebstrap)";
  if (::geteuid() != 0) {
    return "the podman tests run as root: rootless podman cannot use this host's cgroup workaround (a pinned mount "
           "namespace with cgroup2 needs CAP_SYS_ADMIN)";
  }
  if (host_codename().empty() || host_sources().empty()) return "this host has no Debian release name or apt sources";
  return "";
}

std::string ensure_podman_base_image() {
  const fs::path dir = cache_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  // One test binary at a time builds it; the others wait and find it.
  UniqueFd lock(::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock || ::flock(lock.get(), LOCK_EX) != 0) return "cannot lock " + (dir / "lock").string();
  CommandOptions quick;
  quick.timeout_seconds = 60;
  quick.env["PATH"] = kSystemPath;  // mmdebstrap runs apt and dpkg, podman runs mount
  if (run_command({kPodman, "image", "exists", kPodmanBaseImage}, quick).exit_code == 0) return "";

  const std::string codename = host_codename();
  const fs::path tarball = dir / ("rootfs-" + codename + "-v1.tar");
  if (!fs::exists(tarball, ec)) {
    const fs::path partial = dir / "rootfs.partial.tar";
    const fs::path tmp = dir / "tmp";
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    CommandOptions build;
    build.timeout_seconds = 600;  // the cold path: about 30 s here (bench/README.md)
    build.env["TMPDIR"] = tmp.string();  // never /tmp
    build.env["PATH"] = kSystemPath;
    auto made = run_command({kMmdebstrap, "--variant=minbase", "--include=socat,curl,ca-certificates,procps",
                             "--quiet", codename, partial.string(), host_sources()},
                            build);
    fs::remove_all(tmp, ec);
    if (made.exit_code != 0) {
      fs::remove(partial, ec);
      return "mmdebstrap failed (exit " + std::to_string(made.exit_code) + "): " + made.err;
    }
    fs::rename(partial, tarball, ec);
    if (ec) return "cannot keep " + tarball.string() + ": " + ec.message();
  }
  CommandOptions import;
  import.timeout_seconds = 300;
  import.env["PATH"] = kSystemPath;
  auto imported = run_command({kPodman, "import", "--quiet", tarball.string(), kPodmanBaseImage}, import);
  if (imported.exit_code != 0) return "podman import failed: " + imported.err;
  return "";
}

std::string test_containerfile() {
  return std::string("FROM ") + kPodmanBaseImage + R"(
ENV LANG=C.UTF-8 LC_ALL=C.UTF-8
ARG USER_UID=1000
RUN useradd --create-home --uid "${USER_UID}" --shell /bin/sh claude \
 && mkdir -p /workspace \
 && chown claude:claude /workspace
USER claude
ENV HOME=/home/claude
WORKDIR /workspace
CMD ["sleep", "infinity"]
)";
}

}  // namespace cc::test
