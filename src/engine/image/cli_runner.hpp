#pragma once
// Runs a container CLI (podman, docker, container) as a child process: output captured and
// bounded, or passed through for interactive commands, or logged for builds. Secret values
// never go on its command line: the dialects name variables (`--env KEY`) and the runner puts
// their values in the child's environment only.
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace cc::engine::image {

struct CliResult {
  int status = 0;   // exit status; 128+N when killed by signal N
  std::string out;  // stdout, at most the bound given
  std::string err;  // stderr, likewise
};

// Variables the container CLIs read themselves (where to find the daemon and their helpers,
// their configuration, proxies, the dynamic loader): a container's own value for one of these
// must never become the CLI's (PATH=/workspace/bin would have root's podman run the project's
// `mount`, DOCKER_HOST another daemon). The runner never sets them from `env`; the dialects
// pass such a variable with its value on the command line instead.
bool read_by_the_cli(const std::string& key);

// The first executable `name` on PATH, then in the usual system directories.
std::optional<std::filesystem::path> find_program(const std::string& name);

// The mount namespace podman needs on a cgroup v1/v2 hybrid host: the host's mounts (slave:
// they propagate in, nothing propagates out) with a pure cgroup2 mount at /sys/fs/cgroup.
// One namespace for every call, pinned on `file` (a bind mount of its nsfs file, as `ip
// netns` does), because `podman run` mounts the container's root there and later `exec`,
// `stop` and `rm` must see that mount. Made on first use; needs root. Returns an fd of it.
UniqueFd cgroup2_namespace(const std::filesystem::path& file);

class CliRunner {
 public:
  // `cgroup2_namespace`: every invocation runs in that namespace (see above).
  CliRunner(std::filesystem::path program, std::optional<std::filesystem::path> cgroup2_namespace);

  const std::filesystem::path& program() const { return program_; }

  // stdin from /dev/null; stdout and stderr kept (each at most `max_bytes`, the rest read and
  // dropped). `input`: written to stdin instead. Throws cc::Error when the program cannot run.
  CliResult capture(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                    std::size_t max_bytes = 16u << 20) const;
  // stdin, stdout and stderr are the caller's (exec -it, logs -f). Returns the exit status.
  int pass_through(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) const;
  // stdout and stderr both into `log` (appended, 0600); with `echo_fd` >= 0 copied there too
  // (a terminal shows progress). Returns the exit status; `tail` gets the output's last bytes.
  int logged(const std::vector<std::string>& args, const std::filesystem::path& log, int echo_fd,
             std::string* tail, const std::map<std::string, std::string>& env = {}) const;

 private:
  UniqueFd namespace_fd() const;

  std::filesystem::path program_;
  std::optional<std::filesystem::path> namespace_file_;
};

// "podman ps -a" style text of a command line, for messages (arguments as given).
std::string describe_command(const std::filesystem::path& program, const std::vector<std::string>& args);

}  // namespace cc::engine::image
