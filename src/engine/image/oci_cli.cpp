#include "engine/image/oci_cli.hpp"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "engine/image/cli_runner.hpp"
#include "util/error.hpp"

namespace cc::engine::image {

namespace {

std::string number_text(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", value);
  return buf;
}

// `--env KEY`: the value comes from the CLI's environment (set by the runner), off the command
// line; a variable the CLI reads itself goes with its value instead (cli_runner.hpp).
void add_env(std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) {
    args.emplace_back("--env");
    args.push_back(read_by_the_cli(k) ? k + "=" + v : k);
  }
}

void add_labels(std::vector<std::string>& args, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : labels) {
    args.emplace_back("--label");
    args.push_back(k + "=" + v);
  }
}

// `-v SOURCE:DEST[:OPTIONS]` splits at ':' and `--mount` at ','; a path holding either would be
// read as something else, so such paths are refused (unsupported) rather than passed.
bool mount_safe(const std::string& path) { return path.find_first_of(":,\n") == std::string::npos; }

std::map<std::string, std::string> labels_of(const nlohmann::json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

// The inspect array's only element; nullopt for `[]` (no such object). Throws when the
// output is not that shape: a CLI that failed for another reason.
std::optional<nlohmann::json> single_element(const std::string& output, int exit_status, const std::string& what) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(output);
  } catch (const nlohmann::json::exception&) {
    if (exit_status != 0) return std::nullopt;  // docker prints nothing on stdout for a missing object
    throw Error("could not read the " + what + " description the container CLI printed (not JSON); run the same "
                "`inspect` by hand to see why.");
  }
  if (!j.is_array()) throw Error("the container CLI described the " + what + " in an unexpected shape (not a list).");
  if (j.empty()) return std::nullopt;
  if (!j[0].is_object()) throw Error("the container CLI described the " + what + " in an unexpected shape.");
  return j[0];
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  if (tm.tm_year < 1971) return std::nullopt;  // "0001-01-01T00:00:00Z": never started
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::size_t pos = static_cast<std::size_t>(consumed);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  std::int64_t offset = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = (hh * 3600 + mm * 60) * (text[pos] == '+' ? 1 : -1);
  } else if (pos >= text.size() || text[pos] != 'Z') {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(::timegm(&tm)) - offset;
}

std::vector<std::string> OciCli::build_args(const BuildSpec& spec) const {
  std::vector<std::string> args{"build", "--file", spec.containerfile.string(), "--tag", spec.tag};
  add_labels(args, spec.labels);
  for (const auto& [k, v] : spec.build_args) {
    args.emplace_back("--build-arg");
    args.push_back(k + "=" + v);
  }
  if (!settings_.build_isolation.empty()) args.push_back("--isolation=" + settings_.build_isolation);
  for (const auto& u : settings_.build_ulimits) args.push_back("--ulimit=" + u);
  args.push_back(spec.context_dir.string());
  return args;
}

std::vector<std::string> OciCli::run_args(const RunSpec& spec) const {
  std::vector<std::string> args{"run", "--detach", "--name", spec.name};
  if (!spec.hostname.empty()) args.push_back("--hostname=" + spec.hostname);
  add_labels(args, spec.labels);
  // Values stay off the command line (ps shows it): the runner puts them in the CLI's
  // environment, and `--env KEY` copies them from there.
  add_env(args, spec.env);
  if (!spec.workdir.empty()) args.push_back("--workdir=" + spec.workdir);
  if (!spec.user.empty()) args.push_back("--user=" + spec.user);
  if (settings_.keep_id) args.emplace_back("--userns=keep-id");
  for (const auto& m : spec.mounts) {
    switch (m.kind) {
      case MountSpec::Kind::bind:
        args.push_back("--mount=type=bind,source=" + m.source + ",destination=" + m.destination +
                       (m.read_only ? ",readonly=true" : ""));
        break;
      case MountSpec::Kind::volume:
        args.push_back("--mount=type=volume,source=" + m.source + ",destination=" + m.destination +
                       (m.read_only ? ",readonly=true" : ""));
        break;
      case MountSpec::Kind::tmpfs:
        args.push_back("--tmpfs=" + m.destination + ":rw,nosuid,nodev");
        break;
      case MountSpec::Kind::overlay:
        args.push_back("--volume=" + m.source + ":" + m.destination + ":O,upperdir=" + m.upper + ",workdir=" + m.work);
        break;
    }
  }
  for (const auto& s : spec.sockets) {
    args.push_back("--mount=type=bind,source=" + s.host.string() + ",destination=" + s.container);
  }
  if (spec.no_network) args.emplace_back("--network=none");
  if (settings_.cgroups_disabled) {
    args.emplace_back("--cgroups=disabled");
  } else {
    if (spec.cpus > 0) args.push_back("--cpus=" + number_text(spec.cpus));
    if (spec.memory > 0) args.push_back("--memory=" + std::to_string(spec.memory));
    if (spec.pids > 0) args.push_back("--pids-limit=" + std::to_string(spec.pids));
  }
  for (const auto& u : settings_.ulimits) args.push_back("--ulimit=" + u);
  for (const auto& c : spec.cap_drop) args.push_back("--cap-drop=" + c);
  if (spec.no_new_privileges) args.emplace_back("--security-opt=no-new-privileges");
  if (spec.read_only_rootfs) args.emplace_back("--read-only");
  args.push_back(spec.image);
  args.insert(args.end(), spec.command.begin(), spec.command.end());
  return args;
}

std::vector<std::string> OciCli::exec_args(const std::string& name, const ExecRequest& req,
                                           const std::string& user) const {
  std::vector<std::string> args{"exec", "--interactive"};
  if (req.tty) args.emplace_back("--tty");
  if (!user.empty()) args.push_back("--user=" + user);
  if (req.workdir) args.push_back("--workdir=" + *req.workdir);
  add_env(args, req.extra_env);
  args.push_back(name);
  if (req.argv.empty()) {
    args.insert(args.end(), {"/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l"});
  } else {
    args.insert(args.end(), req.argv.begin(), req.argv.end());
  }
  return args;
}

std::vector<std::string> OciCli::start_args(const std::string& name) const { return {"start", name}; }

std::vector<std::string> OciCli::stop_args(const std::string& name, std::chrono::seconds grace) const {
  return {"stop", "--time", std::to_string(grace.count()), name};
}

std::vector<std::string> OciCli::remove_args(const std::string& name) const { return {"rm", "--force", name}; }

std::vector<std::string> OciCli::logs_args(const std::string& name, bool follow) const {
  if (follow) return {"logs", "--follow", name};
  return {"logs", name};
}

std::vector<std::string> OciCli::inspect_args(const std::string& name) const {
  return {"container", "inspect", name};
}

std::vector<std::string> OciCli::image_inspect_args(const std::string& tag) const { return {"image", "inspect", tag}; }

std::vector<std::string> OciCli::image_remove_args(const std::string& tag) const { return {"image", "rm", tag}; }

std::vector<std::string> OciCli::volume_create_args(const std::string& name,
                                                    const std::map<std::string, std::string>& labels) const {
  std::vector<std::string> args{"volume", "create"};
  add_labels(args, labels);
  args.push_back(name);
  return args;
}

std::vector<std::string> OciCli::volume_create_bound_args(const std::string& name,
                                                          const std::map<std::string, std::string>& labels,
                                                          const std::filesystem::path& dir) const {
  std::vector<std::string> args{"volume", "create", "--driver", "local", "--opt", "type=none", "--opt", "o=bind",
                                "--opt", "device=" + dir.string()};
  add_labels(args, labels);
  args.push_back(name);
  return args;
}

std::vector<std::string> OciCli::volume_remove_args(const std::string& name) const {
  return {"volume", "rm", "--force", name};
}

std::optional<ContainerInfo> OciCli::parse_inspect(const std::string& output, int exit_status) const {
  auto element = single_element(output, exit_status, "container");
  if (!element) return std::nullopt;
  const auto& j = *element;
  ContainerInfo info;
  info.id = j.value("Id", "");
  if (j.contains("Config") && j["Config"].is_object()) {
    const auto& config = j["Config"];
    if (config.contains("Image") && config["Image"].is_string()) info.image = config["Image"].get<std::string>();
    if (config.contains("Labels")) info.labels = labels_of(config["Labels"]);
  }
  if (j.contains("State") && j["State"].is_object()) {
    const auto& state = j["State"];
    info.running = state.value("Running", false);
    if (info.running && state.contains("Pid") && state["Pid"].is_number_integer() && state["Pid"].get<long>() > 0) {
      info.pid = static_cast<pid_t>(state["Pid"].get<long>());
    }
    if (info.running && state.contains("StartedAt") && state["StartedAt"].is_string()) {
      info.started_at = parse_rfc3339(state["StartedAt"].get<std::string>());
    }
  }
  return info;
}

std::optional<std::map<std::string, std::string>> OciCli::parse_image_inspect(const std::string& output,
                                                                              int exit_status) const {
  auto element = single_element(output, exit_status, "image");
  if (!element) return std::nullopt;
  const auto& j = *element;
  if (j.contains("Config") && j["Config"].is_object() && j["Config"].contains("Labels")) {
    return labels_of(j["Config"]["Labels"]);
  }
  if (j.contains("Labels")) return labels_of(j["Labels"]);
  return std::map<std::string, std::string>{};
}

std::vector<std::string> OciCli::unsupported(const RunSpec& spec) const {
  std::vector<std::string> out;
  auto check_path = [&](const std::string& path) {
    if (!mount_safe(path)) {
      out.push_back("the path " + path + " holds a ':' or ',', which " + program() +
                    " mount options cannot carry; move the project to a path without them");
    }
  };
  for (const auto& m : spec.mounts) {
    if (m.kind == MountSpec::Kind::overlay && !supports_overlay_mounts()) {
      out.push_back(program() + " has no overlay mounts, so hybrid storage (the project read-only below a layer of "
                    "changes) cannot be made; choose \"storage\": {\"type\": \"volume\"} or \"bind\"");
    }
    check_path(m.source);
    check_path(m.upper);
    check_path(m.work);
  }
  for (const auto& s : spec.sockets) check_path(s.host.string());
  return out;
}

std::string OciCli::limits_unavailable_reason() const {
  return settings_.cgroups_disabled ? settings_.cgroups_reason : std::string{};
}

}  // namespace cc::engine::image
