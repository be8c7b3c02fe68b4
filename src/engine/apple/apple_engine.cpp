// The apple engine: Apple's release and service first, then the shared lifecycle in Apple's
// dialect (apple_engine.hpp).
#include "engine/apple/apple_engine.hpp"

#include <sys/utsname.h>

#include <cmath>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include "engine/image/cli_runner.hpp"
#include "util/error.hpp"

namespace cc::engine::apple {

namespace {

constexpr std::size_t kSmallOutput = 64 * 1024;

std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string missing_cli_sentence() {
  return "the apple engine needs Apple's `container` command, which is not on PATH: Apple ships it for macOS 26 or "
         "later on Apple Silicon only (install its signed package, then run `container system start`); elsewhere "
         "set \"engine\" to native, docker or podman in .claude-container/config.json.";
}

image::CliRunner runner_or_throw() {
  auto program = image::find_program("container");
  if (!program) throw Error(missing_cli_sentence());
  return image::CliRunner(*program, std::nullopt);
}

AppleVersion read_version(const image::CliRunner& run) {
  image::CliResult v = run.capture(version_args(), {}, kSmallOutput);
  auto version = v.status == 0 ? parse_apple_version(v.out) : std::nullopt;
  if (!version) {
    throw Error("`" + run.program().string() + " --version` did not name a release of Apple's container (" +
                    first_line(v.status == 0 ? v.out : v.err) +
                    "); the apple engine needs Apple's container CLI first on PATH.");
  }
  return *version;
}

// What the release cannot do of what the engine may ask, for doctor.
std::vector<std::string> missing_features(const AppleVersion& v) {
  std::vector<std::string> out;
  if (v < kNetworkNoneSince) out.emplace_back("--network none (network policies none, isolated, development)");
  if (v < kReadOnlySince) out.emplace_back("--read-only");
  if (v < kUlimitSince) out.emplace_back("--ulimit (resources.pids)");
  if (v < kCapDropSince) out.emplace_back("--cap-drop (the engine drops every capability)");
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

PreflightCheck platform_check() {
  struct utsname u {};
  ::uname(&u);
  const std::string machine = u.machine;
#if defined(__APPLE__)
  char product[64] = {};
  std::size_t size = sizeof(product) - 1;
  int major = 0;
  if (::sysctlbyname("kern.osproductversion", product, &size, nullptr, 0) == 0) major = std::atoi(product);
  const bool apple_silicon = machine == "arm64";
  if (major >= 26 && apple_silicon) return {"platform", CheckLevel::ok, std::string("macOS ") + product + " on " + machine, ""};
  return {"platform", CheckLevel::fail,
          std::string("macOS ") + (major > 0 ? product : "(version unknown)") + " on " + machine +
              ": Apple's container needs macOS 26 or later on Apple Silicon",
          apple_silicon ? "upgrade to macOS 26" : "use the docker or podman engine on this Mac"};
#else
  return {"platform", CheckLevel::fail,
          std::string(u.sysname) + " on " + machine +
              ": the apple engine runs only on macOS 26 or later on Apple Silicon, where Apple's container runs",
          "set \"engine\" to native, docker or podman in .claude-container/config.json"};
#endif
}

Preflight AppleEngine::preflight(const ProjectContext* /*ctx*/) {
  Preflight out;
  out.engine = name();
  out.checks.push_back(platform_check());
  auto program = image::find_program("container");
  if (!program) {
    out.checks.push_back({"container", CheckLevel::fail, "Apple's container CLI is not on PATH",
                          "install Apple's container (its signed package), then `container system start`"});
    return out;
  }
  image::CliRunner run(*program, std::nullopt);
  AppleVersion version;
  try {
    version = read_version(run);
  } catch (const Error& e) {
    out.checks.push_back({"container", CheckLevel::fail, e.what(), "put Apple's container CLI first on PATH"});
    return out;
  }
  if (version < kOldestSupported) {
    out.checks.push_back({"container", CheckLevel::fail,
                          program->string() + ": release " + version.text() + ", older than " +
                              kOldestSupported.text() + ", the oldest the apple engine knows",
                          upgrade_hint()});
    return out;
  }
  const auto missing = missing_features(version);
  out.checks.push_back({"container", missing.empty() ? CheckLevel::ok : CheckLevel::warn,
                        program->string() + ": release " + version.text() +
                            (missing.empty() ? "" : "; it lacks " + join(missing) + ", so projects needing them are refused"),
                        missing.empty() ? "" : upgrade_hint()});
  image::CliResult status;
  try {
    status = run.capture(system_status_args(), {}, kSmallOutput);
  } catch (const Error& e) {
    out.checks.push_back({"container system service", CheckLevel::fail, e.what(), "container system start"});
    return out;
  }
  if (status.status == 0) {
    out.checks.push_back({"container system service", CheckLevel::ok, first_line(status.out), ""});
  } else {
    // Not a failure: `start` starts it.
    out.checks.push_back({"container system service", CheckLevel::warn,
                          first_line(status.out.empty() ? status.err : status.out) +
                              "; `claude-container start` starts it",
                          "container system start --enable-kernel-install"});
  }
  return out;
}

image::ImageEngine& AppleEngine::ready(std::vector<std::string>* notes) {
  image::CliRunner run = runner_or_throw();
  const AppleVersion version = read_version(run);
  image::CliResult status = run.capture(system_status_args(), {}, kSmallOutput);
  if (status.status != 0) {
    // Down (exit 1: "apiserver is not running"). The first start would ask whether to install
    // Apple's recommended kernel and block a non-interactive caller; the flag gives the
    // prompt's default answer, without which no container can run.
    image::CliResult started = run.capture(system_start_args(), {}, 1 << 20);
    image::CliResult again = run.capture(system_status_args(), {}, kSmallOutput);
    if (started.status != 0 || again.status != 0) {
      const std::string why = first_line(!started.err.empty() ? started.err : (!again.out.empty() ? again.out : again.err));
      throw Error("Apple's container service is not running and `container system start --enable-kernel-install` "
                  "did not start it (" + why + "); run it yourself and look at `container system logs`.");
    }
    if (notes != nullptr) notes->push_back("started Apple's container service (`container system start`)");
  }
  if (!inner_ || !version_ || *version_ != version) {
    inner_ = std::make_unique<image::ImageEngine>(std::make_unique<AppleCli>(version));
    inner_->set_network_program(network_program_);
    version_ = version;
  }
  return *inner_;
}

StartResult AppleEngine::start(const ProjectContext& ctx) {
  std::vector<std::string> notes;
  image::ImageEngine& inner = ready(&notes);
  StartResult result = inner.start(ctx);
  result.notes.insert(result.notes.begin(), notes.begin(), notes.end());
  if (result.created || !result.already_running) {
    result.notes.push_back("no_new_privs is not set: Apple's container has no option for it (every capability is "
                           "dropped, and the container is a virtual machine of its own)");
  }
  return result;
}

int AppleEngine::exec(const ProjectContext& ctx, const ExecRequest& req) { return ready().exec(ctx, req); }

void AppleEngine::stop(const ProjectContext& ctx, const StopOptions& opts) { ready().stop(ctx, opts); }

Status AppleEngine::status(const ProjectContext& ctx) {
  std::vector<std::string> notes;
  Status status = ready(&notes).status(ctx);
  status.notes.insert(status.notes.end(), notes.begin(), notes.end());
  // Say how Apple enforces each limit, where it differs from docker and podman.
  for (auto& limit : status.limits) {
    if (limit.name == "cpus") {
      const double cpus = ctx.config.resources.cpus;
      if (cpus != std::ceil(cpus))
        limit.reason = "--cpus " + std::to_string(static_cast<long long>(std::ceil(cpus))) +
                       " (Apple gives whole virtual CPUs: rounded up)";
    } else if (limit.name == "pids" && limit.enforced) {
      limit.reason = "--ulimit nproc (RLIMIT_NPROC of every process in the container's virtual machine)";
    } else if (limit.name == "no_new_privs") {
      limit.value = "off";
      limit.enforced = false;
      limit.reason = "Apple's container has no option for it; every capability is dropped and the container is a "
                     "virtual machine of its own";
    }
  }
  return status;
}

void AppleEngine::destroy(const ProjectContext& ctx) { ready().destroy(ctx); }

bool AppleEngine::remove_image(const ProjectContext& ctx) { return ready().remove_image(ctx); }

int AppleEngine::logs(const ProjectContext& ctx, const LogOptions& opts) { return ready().logs(ctx, opts); }

void AppleEngine::reload_network_policy(const ProjectContext& ctx) { ready().reload_network_policy(ctx); }

void AppleEngine::with_workspace(const ProjectContext& ctx, bool require_stopped,
                                 const std::function<void(const workspace::WorkspaceLayout&, bool running)>& action) {
  ready().with_workspace(ctx, require_stopped, action);
}

}  // namespace cc::engine::apple
