#pragma once
// A Docker-compatible daemon for the docker engine's tests: `podman system service` on a unix
// socket in a temporary directory, so the real docker CLI talks to a real daemon API. On a
// cgroup v1/v2 hybrid host it runs in the engines' pinned cgroup2 mount namespace with
// containers.conf saying what the podman engine passes as flags (cgroups disabled, rlimits
// within this host's). The destructor stops it.
#include <sys/types.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace cc::test {

// The docker CLI (Debian's docker.io, or a static one in /usr/local/bin), "" when none.
std::string docker_cli_path();

class PodmanDockerService {
 public:
  PodmanDockerService();
  ~PodmanDockerService();
  PodmanDockerService(const PodmanDockerService&) = delete;
  PodmanDockerService& operator=(const PodmanDockerService&) = delete;

  const std::string& error() const { return error_; }  // "" once it answers
  std::string docker_host() const { return "unix://" + socket_.string(); }

 private:
  TempDir dir_{"cc-docker"};
  std::filesystem::path socket_;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace cc::test
