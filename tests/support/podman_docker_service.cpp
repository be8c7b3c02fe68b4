#include "support/podman_docker_service.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "engine/image/cli_runner.hpp"
#include "engine/image/podman_cli.hpp"
#include "engine/native/paths.hpp"
#include "support/run_command.hpp"
#include "util/error.hpp"

extern char** environ;

namespace cc::test {

namespace fs = std::filesystem;

std::string docker_cli_path() {
  for (const char* p : {"/usr/bin/docker", "/usr/local/bin/docker"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

PodmanDockerService::PodmanDockerService() : socket_(dir_.path() / "docker.sock") {
  const auto layout = engine::image::detect_cgroup_layout();
  const auto settings = engine::image::podman_host_settings();
  fs::path conf = dir_.path() / "containers.conf";
  {
    std::ofstream out(conf);
    out << "[containers]\n";
    if (settings.cgroups_disabled) out << "cgroups = \"disabled\"\n";
    out << "default_ulimits = [";
    for (std::size_t i = 0; i < settings.ulimits.size(); ++i) out << (i ? ", " : "") << '"' << settings.ulimits[i] << '"';
    out << "]\n";
  }
  std::vector<std::string> argv;
  if (layout == engine::image::CgroupLayout::hybrid) {
    // The same pinned namespace the podman engine uses, so both see the same container mounts.
    const fs::path ns = engine::native::container_paths("engine", "/").state_base / "podman-cgroup2.mntns";
    try {
      engine::native::ensure_private_dir(ns.parent_path());
      engine::image::cgroup2_namespace(ns);
    } catch (const Error& e) {
      error_ = e.what();
      return;
    }
    argv = {"/usr/bin/nsenter", "--mount=" + ns.string()};
  }
  for (const char* a : {"/usr/bin/podman", "system", "service", "--time=0"}) argv.emplace_back(a);
  argv.push_back("unix://" + socket_.string());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("CONTAINERS_CONF=" + conf.string());
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  const std::string log = (dir_.path() / "service.log").string();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setsid();
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  if (pid_ < 0) {
    error_ = "cannot fork";
    return;
  }
  CommandOptions options;
  options.timeout_seconds = 20;
  options.env["DOCKER_HOST"] = docker_host();
  const std::string docker = docker_cli_path();
  for (int i = 0; i < 100; ++i) {
    if (fs::exists(socket_) && run_command({docker, "version"}, options).exit_code == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  error_ = "podman system service did not answer on " + socket_.string() + ": " + text;
}

PodmanDockerService::~PodmanDockerService() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace cc::test
