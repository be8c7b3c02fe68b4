#pragma once
// Docker's dialect: the flags it shares with podman (oci_cli). No overlay mounts, so hybrid
// storage is refused; host quirks (cgroups, rlimits) are the daemon's own configuration.
#include <memory>

#include "engine/image/oci_cli.hpp"

namespace cc::engine::image {

class DockerCli final : public OciCli {
 public:
  DockerCli() : OciCli(OciHostSettings{}) {}
  std::string engine_name() const override { return "docker"; }
  std::string program() const override { return "docker"; }
  // `docker --version` names the client only; `docker version` asks the daemon too.
  std::vector<std::string> info_args() const override { return {"version"}; }
};

inline std::unique_ptr<ContainerCli> make_docker_cli() { return std::make_unique<DockerCli>(); }

}  // namespace cc::engine::image
