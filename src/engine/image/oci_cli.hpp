#pragma once
// The dialect docker and podman share: their `run`, `exec`, `build`, `inspect` and `volume`
// subcommands take the same flags for everything the image engine uses, and both print
// `inspect` as a JSON array in Docker's shape. podman_cli and docker_cli add what differs.
#include <string>
#include <vector>

#include "engine/image/container_cli.hpp"

namespace cc::engine::image {

// Flags every container of this host needs, decided once per process (podman_cli detects them).
struct OciHostSettings {
  bool cgroups_disabled = false;             // podman --cgroups=disabled (hybrid cgroup layout)
  std::string cgroups_reason;                // why, for status and doctor
  std::vector<std::string> ulimits;          // "nofile=N:N", ... within this host's hard limits
  std::vector<std::string> build_ulimits;    // the same for build RUN steps
  std::string build_isolation;               // podman build --isolation, empty: the default
  bool keep_id = false;                      // rootless podman: --userns=keep-id
};

class OciCli : public ContainerCli {
 public:
  std::vector<std::string> build_args(const BuildSpec& spec) const override;
  std::vector<std::string> run_args(const RunSpec& spec) const override;
  std::vector<std::string> exec_args(const std::string& name, const ExecRequest& req,
                                     const std::string& user) const override;
  std::vector<std::string> start_args(const std::string& name) const override;
  std::vector<std::string> stop_args(const std::string& name, std::chrono::seconds grace) const override;
  std::vector<std::string> remove_args(const std::string& name) const override;
  std::vector<std::string> logs_args(const std::string& name, bool follow) const override;
  std::vector<std::string> inspect_args(const std::string& name) const override;
  std::vector<std::string> image_inspect_args(const std::string& tag) const override;
  std::vector<std::string> image_remove_args(const std::string& tag) const override;
  std::vector<std::string> volume_create_args(const std::string& name,
                                              const std::map<std::string, std::string>& labels) const override;
  std::vector<std::string> volume_create_bound_args(const std::string& name,
                                                    const std::map<std::string, std::string>& labels,
                                                    const std::filesystem::path& dir) const override;
  std::vector<std::string> volume_remove_args(const std::string& name) const override;

  std::optional<ContainerInfo> parse_inspect(const std::string& output, int exit_status) const override;
  std::optional<std::map<std::string, std::string>> parse_image_inspect(const std::string& output,
                                                                        int exit_status) const override;
  std::vector<std::string> unsupported(const RunSpec& spec) const override;
  std::string limits_unavailable_reason() const override;

  const OciHostSettings& settings() const { return settings_; }

 protected:
  explicit OciCli(OciHostSettings settings) : settings_(std::move(settings)) {}

 private:
  OciHostSettings settings_;
};

// RFC 3339 time as docker and podman print it ("2026-12-02T15:58:46.695743382Z", or with a
// "+01:00" offset) to unix seconds; nullopt for anything else, including the zero time.
std::optional<std::int64_t> parse_rfc3339(const std::string& text);

}  // namespace cc::engine::image
