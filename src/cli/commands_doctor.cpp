// doctor: checks what the chosen engine needs from this machine and says how to fix each gap.
#include <sched.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "config/container_env.hpp"
#include "integrations/agent_install.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

namespace fs = std::filesystem;

enum class Level { ok, warn, fail };

struct Check {
  std::string name;
  Level level = Level::ok;
  std::string detail;
  std::string fix;  // empty when OK
};

const char* level_name(Level level) {
  switch (level) {
    case Level::ok:
      return "OK";
    case Level::warn:
      return "WARN";
    case Level::fail:
      return "FAIL";
  }
  return "FAIL";
}

std::optional<std::string> read_trimmed(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::optional<fs::path> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
  }
  return std::nullopt;
}

// Creating a user namespace for real is the only answer that covers every kernel knob and LSM.
int try_user_namespace() {
  pid_t child = ::fork();
  if (child < 0) return errno;
  if (child == 0) _exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0xff));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINVAL;
}

void check_user_namespaces(std::vector<Check>& checks) {
  int err = try_user_namespace();
  Check check{"user namespaces", Level::ok, "a user namespace can be created", ""};
  if (err != 0) {
    check.level = Level::fail;
    check.detail = std::string("creating a user namespace failed: ") + std::strerror(err);
    check.fix = "allow unprivileged user namespaces (see the kernel settings below)";
  }
  checks.push_back(check);

  if (auto clone = read_trimmed("/proc/sys/kernel/unprivileged_userns_clone")) {
    bool allowed = *clone != "0";
    checks.push_back({"kernel.unprivileged_userns_clone", allowed || ::geteuid() == 0 ? Level::ok : Level::fail,
                      "is " + *clone,
                      allowed ? "" : "sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)"});
  }
  if (auto max = read_trimmed("/proc/sys/user/max_user_namespaces")) {
    bool allowed = *max != "0";
    checks.push_back({"user.max_user_namespaces", allowed ? Level::ok : Level::fail, "is " + *max,
                      allowed ? "" : "sudo sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)"});
  }
  if (auto restrict = read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")) {
    bool restricted = *restrict == "1";
    Level level = !restricted ? Level::ok : (err == 0 ? Level::warn : Level::fail);
    checks.push_back(
        {"AppArmor restrict_unprivileged_userns", level, restricted ? "is 1 (restricted)" : "is " + *restrict,
         restricted ? "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile that "
                      "grants `userns,` to the claude-container binary"
                    : ""});
  }
}

void check_overlayfs(std::vector<Check>& checks, bool hybrid_storage) {
  auto filesystems = read_trimmed("/proc/filesystems").value_or("");
  bool present = filesystems.find("\toverlay") != std::string::npos;
  checks.push_back({"overlayfs", present ? Level::ok : (hybrid_storage ? Level::fail : Level::warn),
                    present ? "available" : "not listed in /proc/filesystems (hybrid storage needs it)",
                    present ? "" : "sudo modprobe overlay"});
}

void check_seccomp(std::vector<Check>& checks) {
  bool available = fs::exists("/proc/sys/kernel/seccomp/actions_avail") ||
                   ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  checks.push_back({"seccomp", available ? Level::ok : Level::fail,
                    available ? "seccomp filters are supported" : "the kernel does not support seccomp",
                    available ? "" : "use a kernel built with CONFIG_SECCOMP_FILTER"});
}

void check_cgroups(std::vector<Check>& checks) {
  if (!fs::exists("/sys/fs/cgroup/cgroup.controllers")) {
    // cgroup v1: limits work where this user may create groups in each controller's hierarchy.
    std::vector<std::string> usable, unusable;
    for (const char* controller : {"memory", "pids", "cpu"}) {
      fs::path dir = fs::path("/sys/fs/cgroup") / controller;
      (fs::is_directory(dir) && ::access(dir.c_str(), W_OK) == 0 ? usable : unusable).push_back(controller);
    }
    if (unusable.empty()) {
      checks.push_back({"cgroups (v1)", Level::ok, "memory, pids and cpu hierarchies are writable", ""});
      return;
    }
    std::string missing;
    for (const auto& name : unusable) missing += " " + name;
    checks.push_back({"cgroups (v1)", Level::warn,
                      "no cgroup v2 hierarchy and no writable v1 hierarchy for:" + missing +
                          "; those limits will not be enforced",
                      "boot with systemd.unified_cgroup_hierarchy=1 and run from a delegated scope "
                      "(systemd-run --user --scope -p Delegate=yes claude-container start)"});
    return;
  }
  std::string own;
  {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("0::", 0) == 0) own = line.substr(3);
    }
  }
  fs::path dir = fs::path("/sys/fs/cgroup") / fs::path(own).relative_path();
  bool writable = ::access(dir.c_str(), W_OK) == 0;
  auto controllers = read_trimmed(dir / "cgroup.controllers").value_or("");
  std::vector<std::string> missing;
  for (const char* wanted : {"memory", "pids", "cpu"}) {
    if ((" " + controllers + " ").find(std::string(" ") + wanted + " ") == std::string::npos) missing.push_back(wanted);
  }
  if (writable && missing.empty()) {
    checks.push_back({"cgroup v2 delegation", Level::ok, own + " is writable with memory, pids and cpu", ""});
    return;
  }
  std::string detail = writable ? own + " lacks controllers:" : own + " is not writable by this user";
  for (const auto& name : missing) detail += " " + name;
  checks.push_back({"cgroup v2 delegation", Level::warn, detail + "; CPU, memory and pids limits will not be enforced",
                    "run from a delegated scope: systemd-run --user --scope -p Delegate=yes claude-container start"});
}

void check_program(std::vector<Check>& checks, const std::string& program, Level missing_level,
                   const std::string& purpose, const std::string& fix) {
  auto path = find_on_path(program);
  checks.push_back({program, path ? Level::ok : missing_level, path ? path->string() : "not found on PATH (" + purpose + ")",
                    path ? "" : fix});
}

std::string resolved_engine(const std::string& requested) {
  if (requested != "auto") return requested;
  struct utsname uts {};
  ::uname(&uts);
  return std::strcmp(uts.sysname, "Darwin") == 0 ? "apple" : "native";
}

// The native engine runs the host's Claude Code inside (image engines install it in the image).
void check_claude_code(std::vector<Check>& checks) {
  auto install = integrations::find_claude_code(config::host_environment());
  checks.push_back({"Claude Code", install ? Level::ok : Level::warn,
                    install ? integrations::describe(*install) : "not found (`claude-container claude` needs it)",
                    install ? "" : "npm install -g @anthropic-ai/claude-code (or Anthropic's native installer)"});
}

std::vector<Check> run_checks(const std::string& engine, const std::optional<engine::ProjectContext>& ctx) {
  std::vector<Check> checks;
  bool hybrid = ctx && ctx->config.storage.type == config::StorageType::hybrid;
  if (engine == "native") {
    check_user_namespaces(checks);
    check_overlayfs(checks, hybrid);
    check_seccomp(checks);
    check_cgroups(checks);
    check_program(checks, "pasta", Level::warn, "network policy `full` falls back to the host's network",
                  "sudo apt-get install passt");
    check_claude_code(checks);
  } else if (engine == "apple") {
    check_program(checks, "container", Level::fail, "Apple's container CLI",
                  "install it from https://github.com/apple/container/releases, then `container system start`");
  } else if (engine == "docker") {
    check_program(checks, "docker", Level::fail, "the Docker CLI", "install Docker Engine or Docker Desktop");
  } else if (engine == "podman") {
    check_program(checks, "podman", Level::fail, "the Podman CLI", "sudo apt-get install podman");
  }
  check_program(checks, "tar", Level::warn, "sync-skills copies the skills with it on engines that copy", "sudo apt-get install tar");
  return checks;
}

int doctor_command(const GlobalOptions& options, const std::string& engine_flag) {
  Console console(options);
  std::optional<engine::ProjectContext> ctx;
  std::vector<Check> checks;
  try {
    ctx = find_project(options);
  } catch (const Error& error) {
    checks.push_back({"configuration", Level::fail, error.what(), "fix config.json or run `claude-container init` again"});
  }
  std::string requested = engine_flag;
  if (requested.empty()) requested = ctx ? config::to_string(ctx->config.engine) : "auto";
  if (!config::parse_engine(requested)) {
    throw usage_error("doctor failed: unknown engine '" + requested + "'. Use auto, native, apple, docker or podman.");
  }
  std::string engine = resolved_engine(requested);
  for (auto& check : run_checks(engine, ctx)) checks.push_back(std::move(check));

  int failures = 0, warnings = 0;
  for (const auto& check : checks) {
    failures += check.level == Level::fail;
    warnings += check.level == Level::warn;
  }
  if (console.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& check : checks) {
      list.push_back({{"name", check.name}, {"status", level_name(check.level)}, {"detail", check.detail}, {"fix", check.fix}});
    }
    console.print_json({{"engine", engine}, {"checks", list}, {"failures", failures}, {"warnings", warnings}});
  } else {
    console.say("Checking what the " + engine + " engine needs" + (ctx ? " for " + ctx->config.name : "") + ":");
    for (const auto& check : checks) {
      std::string label = level_name(check.level);
      std::string padded = label;
      padded.resize(5, ' ');
      if (check.level == Level::ok) padded = console.green(padded);
      if (check.level == Level::warn) padded = console.yellow(padded);
      if (check.level == Level::fail) padded = console.red(padded);
      console.say(padded + check.name + ": " + check.detail);
      if (!check.fix.empty()) console.say("     fix: " + check.fix);
    }
    console.say(failures == 0 ? (warnings == 0 ? "Everything needed is in place."
                                               : "Usable; the warnings above limit what is enforced.")
                              : std::to_string(failures) + " check(s) failed; fix them before `claude-container start`.");
  }
  return failures == 0 ? 0 : static_cast<int>(ExitCode::failure);
}

}  // namespace

void add_doctor_command(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto engine = std::make_shared<std::string>();
  auto* doctor = app.add_subcommand("doctor", "check the prerequisites of the chosen engine and say how to fix each");
  doctor->add_option("--engine", *engine, "check this engine instead of the project's (auto, native, apple, docker, podman)")
      ->type_name("ENGINE");
  table[doctor] = [&options, engine] { return doctor_command(options, *engine); };
}

}  // namespace cc::cli
