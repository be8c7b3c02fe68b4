// Argument lists and output parsing for Apple's `container` CLI; see apple_cli.hpp for the
// facts per release this relies on.
#include "engine/apple/apple_cli.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include <sys/stat.h>

#include "config/config.hpp"
#include "engine/image/host_network.hpp"
#include "util/error.hpp"

namespace cc::engine::apple {

namespace {

using nlohmann::json;

// A JSON value that must not be trusted to have any shape: the CLI's output.
const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string string_member(const json& object, const char* key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::map<std::string, std::string> string_map(const json* object) {
  std::map<std::string, std::string> out;
  if (object == nullptr || !object->is_object()) return out;
  for (const auto& [key, value] : object->items())
    if (value.is_string()) out.emplace(key, value.get<std::string>());
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The CLI's "no such thing" errors across releases: "container not found: x" (1.x),
// `notFound: "Images: x"` (0.x).
bool says_not_found(const std::string& output) {
  const std::string text = lower(output);
  return text.find("not found") != std::string::npos || text.find("notfound") != std::string::npos;
}

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() > 300) line = line.substr(0, 300) + "…";
  return line;
}

std::optional<AppleVersion> parse_dotted(const std::string& text) {
  static const std::regex dotted(R"((\d{1,4})\.(\d{1,4})\.(\d{1,4}))");
  std::smatch m;
  if (!std::regex_search(text, m, dotted)) return std::nullopt;
  return AppleVersion{std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3])};
}

bool valid_container_name(const std::string& name) {
  static const std::regex pattern(R"(^[a-zA-Z0-9][a-zA-Z0-9_.-]+$)");
  return name.size() <= 63 && std::regex_match(name, pattern);
}

bool valid_volume_name(const std::string& name) {
  static const std::regex pattern(R"(^[A-Za-z0-9][A-Za-z0-9_.-]*$)");
  return std::regex_match(name, pattern);
}

// `-v` splits its argument at every ':' (0.5.0 … 1.2.2), so a path holding one cannot be said.
bool volume_safe(const std::string& path) { return path.find(':') == std::string::npos; }

std::string memory_arg(std::uint64_t bytes) {
  if (bytes == 0) bytes = config::Resources{}.memory;
  const std::uint64_t mib = (bytes + (1ull << 20) - 1) >> 20;  // 1 MiB granularity, never less
  return std::to_string(mib) + "M";
}

std::string cpus_arg(double cpus) {
  if (cpus <= 0) cpus = config::Resources{}.cpus;
  // Whole virtual CPUs only: round up, so a VM never gets less than the config asked for.
  const auto whole = static_cast<long long>(std::ceil(cpus));
  return std::to_string(std::max(1LL, whole));
}

std::string needs(const std::string& what, const AppleVersion& since, const AppleVersion& have) {
  return what + " needs Apple's container " + since.text() + " or later, and this Mac has " + have.text() +
         "; " + upgrade_hint() + ".";
}

// The host side's sockets in `dir` that exist now, one share each. The engine mounts the whole
// socket directory on docker and podman; a socket on a virtiofs share cannot be connected to
// from inside Apple's VM, so each goes in as a socket `--volume`, which Apple relays.
std::vector<image::SocketShare> socket_directory_shares(const std::string& dir) {
  std::vector<image::SocketShare> out;
  for (const char* name : {image::kProxySocketName, image::kGatewaySocketName}) {
    const std::string host = dir + "/" + name;
    struct stat st {};
    if (::lstat(host.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
      out.push_back({host, std::string(image::kContainerSocketDir) + "/" + name});
  }
  return out;
}

bool is_socket_directory(const image::MountSpec& mount) {
  return mount.kind == image::MountSpec::Kind::bind && mount.destination == image::kContainerSocketDir;
}

// sockaddr_un's sun_path on macOS: 104 bytes with the terminating NUL.
constexpr std::size_t kMacSocketPathMax = 103;

bool is_root_user(const std::string& user) {
  const std::string name = user.substr(0, user.find(':'));
  return name == "root" || name == "0";
}

}  // namespace

std::string AppleVersion::text() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<AppleVersion> parse_apple_version(const std::string& output) {
  // `system version --format json`: [{"version": "1.2.2", "appName": "container", …}, server…]
  const auto start = output.find_first_not_of(" \t\r\n");
  if (start != std::string::npos && output[start] == '[') {
    const json parsed = json::parse(output, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_array() || parsed.empty()) return std::nullopt;
    const json* chosen = &parsed.front();
    for (const auto& entry : parsed)
      if (string_member(entry, "appName") == "container") {
        chosen = &entry;
        break;
      }
    return parse_dotted(string_member(*chosen, "version"));
  }
  // `--version`: "container CLI version 0.5.0 (build: release, commit: 1234567)"
  static const std::regex line(R"(container CLI version (\d{1,4}\.\d{1,4}\.\d{1,4}))");
  std::smatch m;
  if (!std::regex_search(output, m, line)) return std::nullopt;
  return parse_dotted(m[1]);
}

std::vector<std::string> version_args() { return {"--version"}; }
std::vector<std::string> system_status_args() { return {"system", "status"}; }
std::vector<std::string> system_start_args() { return {"system", "start", "--enable-kernel-install"}; }

std::string upgrade_hint() {
  return "upgrade with `/usr/local/bin/update-container.sh` (or `container system stop`, "
         "`uninstall-container.sh -k`, then the newest signed package from Apple's container releases page)";
}

std::vector<image::ContainerInfo> parse_container_list(const std::string& output) {
  const json parsed = json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array())
    throw Error("Apple's container printed something other than a JSON list of containers (" +
                first_line(output) + "); check `container --version` and report it.");
  std::vector<image::ContainerInfo> out;
  for (const auto& entry : parsed) {
    const json* configuration = member(entry, "configuration");
    if (configuration == nullptr || !configuration->is_object()) continue;
    image::ContainerInfo info;
    info.id = string_member(entry, "id");  // 1.0+
    if (info.id.empty()) info.id = string_member(*configuration, "id");
    if (const json* img = member(*configuration, "image")) info.image = string_member(*img, "reference");
    // ≤ 0.12: "status": "running"; ≥ 1.0: "status": {"state": "running", …}
    std::string state;
    if (const json* status = member(entry, "status")) {
      if (status->is_string())
        state = status->get<std::string>();
      else
        state = string_member(*status, "state");
    }
    info.running = state == "running";
    info.labels = string_map(member(*configuration, "labels"));
    if (!info.id.empty()) out.push_back(std::move(info));
  }
  return out;
}

std::vector<std::string> AppleCli::build_args(const image::BuildSpec& spec) const {
  std::vector<std::string> args{"build", "--tag", spec.tag, "--file", spec.containerfile.string()};
  for (const auto& [key, value] : spec.labels) args.insert(args.end(), {"--label", key + "=" + value});
  for (const auto& [key, value] : spec.build_args) args.insert(args.end(), {"--build-arg", key + "=" + value});
  args.push_back(spec.context_dir.string());
  return args;
}

std::vector<std::string> AppleCli::run_args(const image::RunSpec& spec) const {
  // No --hostname in any release: the guest is named after the container.
  std::vector<std::string> args{"run", "--detach", "--name", spec.name};
  for (const auto& [key, value] : spec.labels) args.insert(args.end(), {"--label", key + "=" + value});
  // Values reach the CLI through its environment (the runner sets them) and `--env KEY` copies
  // them from there (every release): never on a command line that `ps` shows.
  for (const auto& entry : spec.env) args.insert(args.end(), {"--env", entry.first});
  if (!spec.workdir.empty()) args.insert(args.end(), {"--workdir", spec.workdir});
  if (!spec.user.empty()) args.insert(args.end(), {"--user", spec.user});
  args.insert(args.end(), {"--cpus", cpus_arg(spec.cpus), "--memory", memory_arg(spec.memory)});
  // RLIMIT_NPROC of the init process, which every `exec` inherits (exec copies the init
  // process's configuration): the guest runs nothing else, so it bounds the container's
  // processes as the pids cgroup does elsewhere.
  if (spec.pids > 0) {
    const std::string n = std::to_string(spec.pids);
    args.insert(args.end(), {"--ulimit", "nproc=" + n + ":" + n});
  }
  if (spec.read_only_rootfs) args.emplace_back("--read-only");
  for (const auto& cap : spec.cap_drop) args.insert(args.end(), {"--cap-drop", cap});
  if (spec.no_network) args.insert(args.end(), {"--network", "none"});
  for (const auto& mount : spec.mounts) {
    switch (mount.kind) {
      case image::MountSpec::Kind::bind:
        if (is_socket_directory(mount)) {
          for (const auto& share : socket_directory_shares(mount.source))
            args.insert(args.end(), {"--volume", share.host.string() + ":" + share.container});
          break;
        }
        [[fallthrough]];
      case image::MountSpec::Kind::volume:
        args.insert(args.end(), {"--volume", mount.source + ":" + mount.destination + (mount.read_only ? ":ro" : "")});
        break;
      case image::MountSpec::Kind::tmpfs:
        args.insert(args.end(), {"--tmpfs", mount.destination});
        break;
      case image::MountSpec::Kind::overlay:
        break;  // refused by unsupported(): Apple's container has no overlay mount
    }
  }
  // A socket as a `-v` source is relayed into the guest; see the header.
  for (const auto& share : spec.sockets) args.insert(args.end(), {"--volume", share.host.string() + ":" + share.container});
  args.push_back(spec.image);
  args.insert(args.end(), spec.command.begin(), spec.command.end());
  return args;
}

std::vector<std::string> AppleCli::exec_args(const std::string& name, const ExecRequest& req,
                                             const std::string& user) const {
  std::vector<std::string> args{"exec", "--interactive"};
  if (req.tty) args.emplace_back("--tty");
  for (const auto& entry : req.extra_env) args.insert(args.end(), {"--env", entry.first});
  if (!user.empty()) args.insert(args.end(), {"--user", user});
  if (req.workdir) args.insert(args.end(), {"--workdir", *req.workdir});
  args.push_back(name);
  if (req.argv.empty()) {
    // The login shell: bash where the image has it, else sh.
    args.insert(args.end(), {"/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"});
  } else {
    args.insert(args.end(), req.argv.begin(), req.argv.end());
  }
  return args;
}

std::vector<std::string> AppleCli::start_args(const std::string& name) const { return {"start", name}; }

std::vector<std::string> AppleCli::stop_args(const std::string& name, std::chrono::seconds grace) const {
  return {"stop", "--time", std::to_string(grace.count()), name};
}

std::vector<std::string> AppleCli::remove_args(const std::string& name) const { return {"delete", "--force", name}; }

std::vector<std::string> AppleCli::logs_args(const std::string& name, bool follow) const {
  if (follow) return {"logs", "--follow", name};
  return {"logs", name};
}

std::vector<std::string> AppleCli::inspect_args(const std::string& name) const { return {"inspect", name}; }

std::vector<std::string> AppleCli::image_inspect_args(const std::string& tag) const {
  return {"image", "inspect", tag};
}

std::vector<std::string> AppleCli::image_remove_args(const std::string& tag) const {
  return {"image", "delete", tag};
}

std::vector<std::string> AppleCli::volume_create_args(const std::string& name,
                                                      const std::map<std::string, std::string>& labels) const {
  std::vector<std::string> args{"volume", "create"};
  for (const auto& [key, value] : labels) args.insert(args.end(), {"--label", key + "=" + value});
  args.push_back(name);
  return args;
}

std::vector<std::string> AppleCli::volume_remove_args(const std::string& name) const {
  return {"volume", "delete", name};
}

std::optional<image::ContainerInfo> AppleCli::parse_inspect(const std::string& output, int exit_status) const {
  if (exit_status != 0) {
    // 1.0+: "container not found: <name>" and a non-zero exit.
    if (says_not_found(output) || output.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
    throw Error("`container inspect` failed: " + first_line(output) +
                "; check `container system status` and start the service with `container system start`.");
  }
  // Before 1.0 an unknown name is `[]` with exit 0: check the content, not only the status.
  auto containers = parse_container_list(output);
  if (containers.empty()) return std::nullopt;
  return std::move(containers.front());
}

std::optional<std::map<std::string, std::string>> AppleCli::parse_image_inspect(const std::string& output,
                                                                                int exit_status) const {
  if (exit_status != 0) {
    if (says_not_found(output) || output.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
    throw Error("`container image inspect` failed: " + first_line(output) +
                "; check `container system status` and start the service with `container system start`.");
  }
  const json parsed = json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array())
    throw Error("Apple's container printed something other than a JSON list of images (" + first_line(output) +
                "); check `container --version` and report it.");
  if (parsed.empty()) return std::nullopt;
  // 0.x: [{"name", "index", "variants": [{"platform", "config", "size"}]}]; 1.x:
  // [{"id", "configuration", "variants": [{"platform", "digest", "size", "config"}]}]. The
  // labels are the OCI image config's, in each variant: config.config.Labels.
  std::map<std::string, std::string> labels;
  if (const json* variants = member(parsed.front(), "variants"); variants != nullptr && variants->is_array()) {
    for (const auto& variant : *variants) {
      const json* oci = member(variant, "config");
      const json* inner = oci != nullptr ? member(*oci, "config") : nullptr;
      if (inner == nullptr) continue;
      labels = string_map(member(*inner, "Labels"));
      if (!labels.empty()) break;
    }
  }
  return labels;
}

std::vector<std::string> AppleCli::unsupported(const image::RunSpec& spec) const {
  std::vector<std::string> out;
  if (version_ < kOldestSupported) {
    out.push_back("Apple's container " + version_.text() + " is older than " + kOldestSupported.text() +
                  ", the oldest release whose commands and output claude-container knows; " + upgrade_hint() + ".");
    return out;
  }
  if (spec.no_network && version_ < kNetworkNoneSince)
    out.push_back(needs("A container without a network (`--network none`, which network policies none, isolated "
                        "and development rely on)",
                        kNetworkNoneSince, version_));
  if (spec.read_only_rootfs && version_ < kReadOnlySince)
    out.push_back(needs("A read-only root filesystem (`--read-only`)", kReadOnlySince, version_));
  if (spec.pids > 0 && version_ < kUlimitSince)
    out.push_back(needs("The process limit resources.pids (`--ulimit nproc`)", kUlimitSince, version_));
  if (spec.pids > 0 && is_root_user(spec.user))
    out.push_back("The process limit resources.pids is an RLIMIT_NPROC on Apple's container, which does not bind "
                  "root; run the container as a non-root user.");
  if (!spec.cap_drop.empty() && version_ < kCapDropSince)
    out.push_back(needs("Dropping capabilities (`--cap-drop`)", kCapDropSince, version_));
  if (!valid_container_name(spec.name))
    out.push_back("The container name \"" + spec.name +
                  "\" is not one Apple's container accepts (letters, digits, '_', '.', '-', at most 63); "
                  "choose another \"name\" in .claude-container/config.json.");
  for (const auto& mount : spec.mounts) {
    if (mount.kind == image::MountSpec::Kind::overlay) {
      out.push_back("Apple's container has no overlay mount, which hybrid storage needs; choose \"volume\" or "
                    "\"bind\" storage in .claude-container/config.json.");
      continue;
    }
    if (mount.kind == image::MountSpec::Kind::tmpfs) {
      if (mount.read_only)
        out.push_back("Apple's container has no read-only tmpfs (wanted at " + mount.destination + ").");
      continue;
    }
    if (mount.kind == image::MountSpec::Kind::volume && !valid_volume_name(mount.source))
      out.push_back("The volume name \"" + mount.source + "\" is not one Apple's container accepts.");
    if (mount.kind == image::MountSpec::Kind::bind && (mount.source.empty() || mount.source.front() != '/'))
      out.push_back("Apple's container bind-mounts absolute host paths only, not \"" + mount.source + "\".");
    if (!volume_safe(mount.source) || !volume_safe(mount.destination))
      out.push_back("Apple's container cannot mount " + mount.source + " at " + mount.destination +
                    ": its `--volume` splits paths at ':'; move the project to a path without ':'.");
  }
  // The host side starts after this check: judge the sockets it will make there, not those
  // that exist now.
  std::vector<image::SocketShare> shares = spec.sockets;
  for (const auto& mount : spec.mounts)
    if (is_socket_directory(mount))
      for (const char* name : {image::kProxySocketName, image::kGatewaySocketName})
        shares.push_back({mount.source + "/" + name, std::string(image::kContainerSocketDir) + "/" + name});
  for (const auto& share : shares) {
    if (share.host.string().size() > kMacSocketPathMax)
      // The host side's own sockets always fit (host_socket_dir.hpp picks a short alias when the
      // state directory is deep); what remains is a socket from elsewhere, the ssh agent's.
      out.push_back("The host socket " + share.host.string() + " is longer than the 104 bytes a macOS socket path may "
                    "have; give it a shorter path (for the ssh agent: start it with `ssh-agent -a <short path>` "
                    "and point SSH_AUTH_SOCK there).");
    if (!share.host.is_absolute() || share.container.empty() || share.container.front() != '/')
      out.push_back("Apple's container shares sockets by absolute paths only, not " + share.host.string() + ".");
    if (!volume_safe(share.host.string()) || !volume_safe(share.container))
      out.push_back("Apple's container cannot share the socket " + share.host.string() +
                    ": its `--volume` splits paths at ':'; use a state directory without ':'.");
  }
  return out;
}

}  // namespace cc::engine::apple
