#pragma once
// What differs between the container CLIs the image engines drive (docker, podman, Apple's
// `container`): each turns one lifecycle step into an argument list and reads that CLI's
// output, per version where the CLI changed. The lifecycle itself (image_engine.*) is shared,
// so the same config means the same thing on every engine, and an engine that cannot enforce a
// setting refuses with the reason rather than running with less.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace cc::engine::image {

struct BuildSpec {
  std::string tag;                          // per-project image name
  std::filesystem::path containerfile;
  std::filesystem::path context_dir;
  std::map<std::string, std::string> labels;  // the Containerfile's content hash among them
  std::map<std::string, std::string> build_args;
};

struct MountSpec {
  // overlay: `source` read-only below, changes in `upper` (podman's `:O` mount), for hybrid.
  enum class Kind { bind, volume, tmpfs, overlay };
  Kind kind = Kind::bind;
  std::string source;       // host path, volume name; empty for tmpfs
  std::string destination;  // inside the container
  bool read_only = false;
  std::string upper;        // overlay: host directories that keep the changes
  std::string work;
};

// A host unix socket put into the container: a bind mount on docker and podman, a socket
// `--volume` on Apple's container (which relays it into the VM; its `--publish-socket` relays
// the other way, out of the container).
struct SocketShare {
  std::filesystem::path host;
  std::string container;
};

struct RunSpec {
  std::string name;                          // per-project container name
  std::string image;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> env;
  std::string workdir;
  std::string user;
  std::vector<MountSpec> mounts;
  std::vector<SocketShare> sockets;
  bool no_network = false;                   // --network none
  double cpus = 0;                           // 0: unset
  std::uint64_t memory = 0;                  // bytes; 0: unset
  std::uint64_t pids = 0;                    // 0: unset
  std::vector<std::string> cap_drop;
  bool read_only_rootfs = false;
  std::vector<std::string> command;          // the container's pid 1 command
  std::string hostname;
  bool no_new_privileges = true;
};

struct ContainerInfo {
  std::string id;
  std::string image;
  bool running = false;
  std::map<std::string, std::string> labels;
  std::optional<pid_t> pid;                  // pid 1 as the host sees it, when known
  std::optional<std::int64_t> started_at;    // unix seconds, when known
};

class ContainerCli {
 public:
  virtual ~ContainerCli() = default;
  virtual std::string engine_name() const = 0;  // "podman", "docker", "apple"
  virtual std::string program() const = 0;      // the executable: "podman", "docker", "container"

  virtual std::vector<std::string> build_args(const BuildSpec& spec) const = 0;
  virtual std::vector<std::string> run_args(const RunSpec& spec) const = 0;
  virtual std::vector<std::string> exec_args(const std::string& name, const ExecRequest& req,
                                             const std::string& user) const = 0;
  virtual std::vector<std::string> start_args(const std::string& name) const = 0;
  virtual std::vector<std::string> stop_args(const std::string& name, std::chrono::seconds grace) const = 0;
  virtual std::vector<std::string> remove_args(const std::string& name) const = 0;
  virtual std::vector<std::string> logs_args(const std::string& name, bool follow) const = 0;
  virtual std::vector<std::string> inspect_args(const std::string& name) const = 0;
  virtual std::vector<std::string> image_inspect_args(const std::string& tag) const = 0;
  virtual std::vector<std::string> image_remove_args(const std::string& tag) const = 0;
  virtual std::vector<std::string> volume_create_args(const std::string& name,
                                                      const std::map<std::string, std::string>& labels) const = 0;
  virtual std::vector<std::string> volume_remove_args(const std::string& name) const = 0;

  // nullopt: no such container (each CLI says so differently, per version).
  virtual std::optional<ContainerInfo> parse_inspect(const std::string& output, int exit_status) const = 0;
  // The labels of an image, nullopt when the image is missing.
  virtual std::optional<std::map<std::string, std::string>> parse_image_inspect(const std::string& output,
                                                                                int exit_status) const = 0;

  // What this CLI cannot enforce of `spec`, one sentence each; the engine refuses to start
  // when any remain.
  virtual std::vector<std::string> unsupported(const RunSpec& spec) const = 0;

  // The CLI's own version line, and whether its engine answers (daemon, service, VM).
  virtual std::vector<std::string> version_args() const { return {"--version"}; }
  virtual std::vector<std::string> info_args() const { return {"info"}; }
  // A named volume whose data is the host directory `dir` (seeded and reviewed on the host,
  // so diff and apply work). Empty: the CLI has none; the engine binds `dir` instead.
  virtual std::vector<std::string> volume_create_bound_args(const std::string& /*name*/,
                                                            const std::map<std::string, std::string>& /*labels*/,
                                                            const std::filesystem::path& /*dir*/) const {
    return {};
  }
  // Whether a new named volume mounted over an image directory starts with that directory's
  // content and owner (docker and podman copy it up). Apple's start empty and root-owned, so
  // the engine keeps the home in the container's own filesystem there.
  virtual bool volumes_start_with_image_content() const { return true; }
  // Whether a `MountSpec::Kind::overlay` can be mounted (hybrid storage).
  virtual bool supports_overlay_mounts() const { return false; }
  // Host setup every invocation of the CLI needs (podman on a cgroup v1/v2 hybrid host: one
  // pinned mount namespace with cgroup2 at /sys/fs/cgroup, cli_runner.hpp); applied by the runner.
  virtual bool needs_private_cgroup2() const { return false; }
  // Resource limits the engine cannot set on this host (cgroups disabled), with the reason;
  // the engine then runs without them and says so in `start` and `status`, as the native
  // engine does when it cannot set a cgroup limit. Empty: enforced.
  virtual std::string limits_unavailable_reason() const { return {}; }
  // Extra checks for `doctor` beyond "installed and answers" (cgroup layout, rlimits).
  virtual std::vector<PreflightCheck> host_checks() const { return {}; }
};

}  // namespace cc::engine::image
