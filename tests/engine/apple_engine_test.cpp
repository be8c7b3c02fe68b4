// The apple engine driven end to end against the stand-in `container` first on PATH
// (tests/support/apple_stand_in/): every command's exact argument list per storage, network
// and credential combination, the per-release adaptations and refusals, the service started
// when it is down, and a stopped container seen as stopped. Apple's CLI runs only on macOS; the
// relay and host side are the same code as on podman and are tested for real there.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "config/config.hpp"
#include "engine/apple/apple_engine.hpp"
#include "engine/image/host_network.hpp"
#include "engine/image/image_engine.hpp"
#include "project/container_layout.hpp"
#include "support/apple_stand_in.hpp"
#include "support/engine_env.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

namespace {

namespace fs = std::filesystem;
using cc::engine::ContainerState;
using cc::engine::apple::AppleEngine;
using Args = std::vector<std::string>;
using Calls = std::vector<Args>;

// Sets environment variables for the test's life and restores them.
class ScopedEnv {
 public:
  void set(const std::string& name, const std::optional<std::string>& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// What a pass-through command (exec, logs) printed on our stdout.
class CaptureStdout {
 public:
  explicit CaptureStdout(const fs::path& file) : file_(file) {
    std::fflush(stdout);
    saved_ = ::dup(1);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, 1);
    ::close(fd);
  }
  std::string finish() {
    std::fflush(stdout);
    ::dup2(saved_, 1);
    ::close(saved_);
    saved_ = -1;
    return cc::read_file(file_);
  }
  ~CaptureStdout() {
    if (saved_ >= 0) finish();
  }

 private:
  fs::path file_;
  int saved_ = -1;
};

// A project configured for the apple engine, its own HOME and XDG directories, the stand-in of
// one release first on PATH. Destroys what it made when it ends.
class AppleProject {
 public:
  explicit AppleProject(const std::string& version, bool service_up = true) : stand_in_(version, service_up) {
    project_ = dir_.path() / "project";
    fs::create_directories(project_ / ".claude-container");
    fs::create_directories(dir_.path() / "home");
    cc::write_file_atomic(project_ / ".claude-container" / "Containerfile", "FROM debian:stable-slim\n");
    cc::write_file_atomic(project_ / "README.md", "the project\n");
    env_.set("PATH", stand_in_.bin_dir());
    env_.set("HOME", (dir_.path() / "home").string());
    env_.set("XDG_RUNTIME_DIR", (dir_.path() / "run").string());
    env_.set("XDG_DATA_HOME", (dir_.path() / "data").string());
    env_.set("XDG_STATE_HOME", (dir_.path() / "state").string());
    env_.set("SSH_AUTH_SOCK", std::nullopt);
    env_.set("ANTHROPIC_API_KEY", std::nullopt);
    fs::create_directories(dir_.path() / "run");
    fs::permissions(dir_.path() / "run", fs::perms::owner_all);
    ctx_.project_dir = fs::canonical(project_);
    ctx_.config = cc::config::preset(cc::config::Mode::playground, "demo");
    ctx_.config.engine = cc::config::EngineKind::apple;
    ctx_.approved_containerfile_sha256 = cc::sha256_hex("FROM debian:stable-slim\n");  // as the CLI hands it
    ctx_.config.image.base = "debian";
    ctx_.config.network.policy = cc::config::NetworkPolicy::none;
    ctx_.config.storage.type = cc::config::StorageType::volume;
    ctx_.config.credentials.api = cc::config::ApiCredentials::separate;
    ctx_.config.skills.sync = false;
    ctx_.config.mcp.servers.clear();
    ctx_.config.git.credentials = cc::config::GitCredentials::none;
  }
  ~AppleProject() {
    try {
      stand_in_.set_service_up(true);
      engine_.destroy(ctx_);
    } catch (const std::exception&) {
    }
  }
  AppleProject(const AppleProject&) = delete;
  AppleProject& operator=(const AppleProject&) = delete;

  cc::engine::ProjectContext& ctx() { return ctx_; }
  AppleEngine& engine() { return engine_; }
  cc::test::AppleStandIn& stand_in() { return stand_in_; }
  ScopedEnv& env() { return env_; }
  const fs::path& root() const { return dir_.path(); }

  cc::engine::image::ImageNames names() const {
    return cc::engine::image::image_names(ctx_.config.name, ctx_.project_dir);
  }
  cc::engine::native::ContainerPaths paths() const {
    return cc::engine::image::image_container_paths("apple", ctx_.config.name, ctx_.project_dir);
  }
  std::string project_label() const { return ctx_.project_dir.string(); }

  // The calls since the last take, and forget them.
  Calls take_calls() {
    Calls calls = stand_in_.calls();
    stand_in_.clear_calls();
    return calls;
  }

  // The labels every container, image and volume of this project carries.
  Args labels(const std::string& storage) const {
    return {"--label", std::string(cc::engine::image::kKeyLabel) + "=" + names().key,
            "--label", std::string(cc::engine::image::kProjectLabel) + "=" + project_label(),
            "--label", std::string(cc::engine::image::kStorageLabel) + "=" + storage};
  }

 private:
  cc::test::TempDir dir_{"cc-apple-engine"};
  cc::test::AppleStandIn stand_in_;
  ScopedEnv env_;
  fs::path project_;
  cc::engine::ProjectContext ctx_;
  AppleEngine engine_;
};

// The service checks every command starts with.
const Calls kPrologue{{"--version"}, {"system", "status"}};

Calls with_prologue(Calls calls) {
  calls.insert(calls.begin(), kPrologue.begin(), kPrologue.end());
  return calls;
}

std::string joined(const Calls& calls) {
  std::string out;
  for (const auto& call : calls) {
    out += "container";
    for (const auto& arg : call) out += " " + arg;
    out += "\n";
  }
  return out;
}

// The first-start calls up to the build, which are the same for every combination.
Calls first_start_until_build(AppleProject& p) {
  const auto names = p.names();
  return {{"inspect", names.container}, {"image", "inspect", names.image}};
}

Args build_call(AppleProject& p) {
  const auto names = p.names();
  const auto paths = p.paths();
  const std::string hash = cc::sha256_hex("FROM debian:stable-slim\n\nUSER_UID=" + std::to_string(::geteuid() == 0 ? 1000 : ::geteuid()));
  return {"build", "--tag", names.image, "--file", (paths.state_dir / "Containerfile").string(),
          "--label", std::string(cc::engine::image::kContainerfileLabel) + "=" + hash,
          "--label", std::string(cc::engine::image::kProjectLabel) + "=" + p.project_label(),
          "--build-arg", "USER_UID=" + std::to_string(::geteuid() == 0 ? 1000 : ::geteuid()),
          (paths.state_dir / "build").string()};
}

// `container run` for the project as configured, the workspace mount given.
Args run_call(AppleProject& p, const Args& workspace_mount, bool no_network, const Args& extra_mounts = {},
              const Args& socket_mounts = {}) {
  const auto names = p.names();
  const auto paths = p.paths();
  Args args{"run", "--detach", "--name", names.container};
  const Args labels = p.labels(cc::config::to_string(p.ctx().config.storage.type));
  args.insert(args.end(), labels.begin(), labels.end());
  args.insert(args.end(), {"--workdir", "/workspace", "--user", "claude", "--cpus", "2", "--memory", "4096M",
                           "--ulimit", "nproc=4096:4096", "--cap-drop", "ALL"});
  if (no_network) args.insert(args.end(), {"--network", "none"});
  // The host side's sockets, one `--volume` each (the directory itself is not shared: a socket on
  // virtiofs cannot be reached from the VM).
  args.insert(args.end(), socket_mounts.begin(), socket_mounts.end());
  args.insert(args.end(), workspace_mount.begin(), workspace_mount.end());
  // No home volume: Apple's volumes start empty and root-owned, and Claude Code lives there.
  args.insert(args.end(), {"--volume", (paths.state_dir / "git").string() + ":/run/claude-container-git:ro"});
  args.insert(args.end(), extra_mounts.begin(), extra_mounts.end());
  args.push_back(names.image);
  // pid 1 waits for SIGTERM; without a network it first starts the relays to the host sockets.
  const Args wait{"/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"};
  const Args command = no_network ? cc::engine::image::relay_entrypoint(wait, true, true) : wait;
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

TEST(AppleEngine, WholeLifecycleOnTheNewestReleaseWithVolumeStorage) {
  AppleProject p("1.2.2");
  const auto names = p.names();
  const auto paths = p.paths();

  auto started = p.engine().start(p.ctx());
  EXPECT_TRUE(started.created);
  Calls expected = with_prologue(first_start_until_build(p));
  expected.push_back(build_call(p));
  expected.push_back(run_call(p, {"--volume", paths.volume_dir().string() + ":/workspace"}, true));
  EXPECT_EQ(p.take_calls(), expected) << joined(p.stand_in().calls());
  EXPECT_EQ(p.engine().version()->text(), "1.2.2");
  // The workspace is the project's copy, in a directory of ours the container binds.
  EXPECT_EQ(cc::read_file(paths.volume_dir() / "README.md"), "the project\n");

  auto status = p.engine().status(p.ctx());
  EXPECT_EQ(status.state, ContainerState::running);
  EXPECT_EQ(status.engine, "apple");
  EXPECT_EQ(p.take_calls(), with_prologue({{"inspect", names.container}}));
  bool saw_pids = false, saw_nnp = false;
  for (const auto& limit : status.limits) {
    if (limit.name == "pids") {
      saw_pids = true;
      EXPECT_TRUE(limit.enforced);
      EXPECT_NE(limit.reason.find("--ulimit nproc"), std::string::npos);
    }
    if (limit.name == "no_new_privs") {
      saw_nnp = true;
      EXPECT_FALSE(limit.enforced) << "Apple's container cannot set it; status must not claim it";
    }
  }
  EXPECT_TRUE(saw_pids && saw_nnp);

  // exec: the values of the environment reach `container` through its environment only.
  p.env().set("LANG", "C.UTF-8");
  cc::engine::ExecRequest req;
  req.argv = {"claude", "--version"};
  req.extra_env = {{"CC_TEST_SECRET", "s3cret-value"}};
  p.stand_in().set_exec_status(7);
  std::string printed;
  {
    CaptureStdout capture(p.root() / "exec.out");
    EXPECT_EQ(p.engine().exec(p.ctx(), req), 7);
    printed = capture.finish();
  }
  Calls calls = p.take_calls();
  ASSERT_EQ(calls.size(), 4u) << joined(calls);
  EXPECT_EQ(Calls(calls.begin(), calls.begin() + 3), with_prologue({{"inspect", names.container}}));
  const Args& exec = calls[3];
  ASSERT_GE(exec.size(), 6u);
  EXPECT_EQ(Args(exec.begin(), exec.begin() + 2), (Args{"exec", "--interactive"}));
  EXPECT_EQ(Args(exec.end() - 3, exec.end()), (Args{names.container, "claude", "--version"}));
  EXPECT_EQ(Args(exec.end() - 7, exec.end() - 3), (Args{"--user", "claude", "--workdir", "/workspace"}));
  for (const auto& arg : exec) EXPECT_EQ(arg.find("s3cret-value"), std::string::npos) << "a value on the command line";
  EXPECT_NE(std::find(exec.begin(), exec.end(), "CC_TEST_SECRET"), exec.end());
  EXPECT_NE(printed.find("env CC_TEST_SECRET=s3cret-value"), std::string::npos) << printed;
  p.stand_in().set_exec_status(0);

  // shell: a terminal and the login shell.
  cc::engine::ExecRequest shell;
  shell.tty = true;
  {
    CaptureStdout capture(p.root() / "shell.out");
    EXPECT_EQ(p.engine().exec(p.ctx(), shell), 0);
  }
  calls = p.take_calls();
  ASSERT_EQ(calls.size(), 4u) << joined(calls);
  const Args& sh = calls[3];
  EXPECT_EQ(Args(sh.begin(), sh.begin() + 3), (Args{"exec", "--interactive", "--tty"}));
  EXPECT_EQ(Args(sh.end() - 4, sh.end()),
            (Args{names.container, "/bin/sh", "-c",
                  "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"}));

  // logs
  {
    CaptureStdout capture(p.root() / "logs.out");
    EXPECT_EQ(p.engine().logs(p.ctx(), {}), 0);
    EXPECT_EQ(capture.finish(), "stand-in log of " + names.container + "\n");
  }
  EXPECT_EQ(p.take_calls(), with_prologue({{"inspect", names.container}, {"logs", names.container}}));

  // stop keeps it; a stopped container is seen as stopped, not as absent.
  p.engine().stop(p.ctx(), {std::chrono::seconds(10)});
  EXPECT_EQ(p.take_calls(), with_prologue({{"inspect", names.container}, {"stop", "--time", "10", names.container}}));
  EXPECT_EQ(p.engine().status(p.ctx()).state, ContainerState::stopped);
  p.take_calls();
  EXPECT_THROW(p.engine().exec(p.ctx(), req), cc::Error);
  p.take_calls();

  // start again: the same container, started, not made anew.
  auto again = p.engine().start(p.ctx());
  EXPECT_FALSE(again.created);
  EXPECT_EQ(p.take_calls(), with_prologue({{"inspect", names.container}, {"start", names.container}}));

  // destroy removes exactly what this project made.
  p.engine().destroy(p.ctx());
  EXPECT_EQ(p.take_calls(), with_prologue({{"inspect", names.container},
                                           {"delete", "--force", names.container},
                                           {"volume", "delete", names.home_volume},
                                           {"volume", "delete", names.workspace_volume}}));
  EXPECT_EQ(p.engine().status(p.ctx()).state, ContainerState::not_created);
  p.take_calls();
  // The image only when asked, and only this project's.
  EXPECT_TRUE(p.engine().remove_image(p.ctx()));
  EXPECT_EQ(p.take_calls(), with_prologue({{"image", "inspect", names.image}, {"image", "delete", names.image}}));
  EXPECT_FALSE(fs::exists(paths.state_dir));
  EXPECT_FALSE(fs::exists(paths.data_dir));
  EXPECT_TRUE(p.stand_in().state()["containers"].empty());
}

TEST(AppleEngine, BindStorageAndFullNetwork) {
  AppleProject p("1.2.2");
  p.ctx().config.storage.type = cc::config::StorageType::bind;
  p.ctx().config.network.policy = cc::config::NetworkPolicy::full;
  p.engine().start(p.ctx());
  Calls expected = with_prologue(first_start_until_build(p));
  expected.push_back(build_call(p));
  // The project itself, and Apple's own network (no --network none).
  expected.push_back(run_call(p, {"--volume", p.ctx().project_dir.string() + ":/workspace"}, false));
  EXPECT_EQ(p.take_calls(), expected) << joined(p.stand_in().calls());
}

TEST(AppleEngine, IsolatedWithTheGatewayRelaysEachHostSocketIn) {
  AppleProject p("1.2.2");
  p.engine().set_network_program(CC_BINARY);
  p.ctx().config.network.policy = cc::config::NetworkPolicy::isolated;
  p.ctx().config.credentials.api = cc::config::ApiCredentials::gateway;
  p.env().set("ANTHROPIC_API_KEY", "sk-ant-api03-" + std::string(80, 'x'));
  p.engine().start(p.ctx());
  const fs::path sockets = cc::engine::image::host_network_socket_dir(p.paths().state_dir);
  const Calls calls = p.take_calls();
  ASSERT_FALSE(calls.empty());
  const Args& run = calls.back();
  EXPECT_EQ(run, run_call(p, {"--volume", p.paths().volume_dir().string() + ":/workspace"}, true, {},
                          {"--volume", (sockets / "proxy.sock").string() + ":/run/claude-container/proxy.sock",
                           "--volume", (sockets / "gateway.sock").string() + ":/run/claude-container/gateway.sock"}))
      << joined(calls);
  for (const auto& arg : run) EXPECT_EQ(arg.find("sk-ant-api03-"), std::string::npos) << "the key on a command line";
  // The values (proxy and gateway addresses) are not in the arguments either: bare --env names.
  auto status = p.engine().status(p.ctx());
  EXPECT_EQ(status.state, ContainerState::running);
  p.engine().destroy(p.ctx());
  EXPECT_FALSE(fs::exists(sockets / "proxy.sock"));
}

// A Mac's default setup: no XDG_RUNTIME_DIR, state under a long home, a long container name.
// The default socket path would not fit macOS's 104-byte sun_path; the sockets go in the short
// alias under TMPDIR instead, so the start is not refused, each `--volume` fits, and stop and
// destroy leave nothing in TMPDIR.
TEST(AppleEngine, ALongStateDirectorySharesItsSocketsThroughAShortAlias) {
  AppleProject p("1.2.2");
  p.engine().set_network_program(CC_BINARY);
  const fs::path state_home = p.root() / std::string(70, 'h') / ".local" / "state";
  fs::create_directories(state_home);
  const fs::path tmp = p.root() / "tmp";
  fs::create_directories(tmp);
  p.env().set("XDG_RUNTIME_DIR", std::nullopt);
  p.env().set("XDG_STATE_HOME", state_home.string());
  p.env().set("TMPDIR", tmp.string());
  p.ctx().config.name = "a-project-with-quite-a-long-name-" + std::string(8, 'n');
  p.ctx().config.network.policy = cc::config::NetworkPolicy::isolated;
  p.ctx().config.credentials.api = cc::config::ApiCredentials::gateway;
  p.env().set("ANTHROPIC_API_KEY", "sk-ant-api03-" + std::string(80, 'z'));
  const fs::path state_dir = p.paths().state_dir;
  ASSERT_GT((state_dir / "host-network" / "sockets" / "gateway.sock").string().size(), cc::engine::image::kPortableSocketPathMax);

  p.engine().start(p.ctx());
  const fs::path sockets = cc::engine::image::host_network_socket_dir(state_dir);
  EXPECT_EQ(sockets.parent_path().parent_path(), tmp);
  EXPECT_LE((sockets / "gateway.sock").string().size(), cc::engine::image::kPortableSocketPathMax);
  EXPECT_EQ(fs::status(sockets / "gateway.sock").type(), fs::file_type::socket);
  EXPECT_EQ(fs::status(sockets / "proxy.sock").type(), fs::file_type::socket);
  const Calls calls = p.take_calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), run_call(p, {"--volume", p.paths().volume_dir().string() + ":/workspace"}, true, {},
                                   {"--volume", (sockets / "proxy.sock").string() + ":/run/claude-container/proxy.sock",
                                    "--volume", (sockets / "gateway.sock").string() + ":/run/claude-container/gateway.sock"}))
      << joined(calls);
  EXPECT_EQ(p.engine().status(p.ctx()).state, ContainerState::running);

  p.engine().stop(p.ctx(), {});
  EXPECT_TRUE(fs::is_empty(tmp)) << "stop leaves the alias behind";
  p.engine().start(p.ctx());
  EXPECT_EQ(fs::status(sockets / "gateway.sock").type(), fs::file_type::socket) << "a restart makes the alias again";
  p.engine().destroy(p.ctx());
  EXPECT_TRUE(fs::is_empty(tmp)) << "destroy leaves the alias behind";
}

TEST(AppleEngine, EachPolicyAndCredentialModeGetsExactlyItsSockets) {
  struct Case {
    cc::config::NetworkPolicy policy;
    cc::config::ApiCredentials api;
    bool proxy, gateway;
  };
  const std::vector<Case> cases{
      {cc::config::NetworkPolicy::development, cc::config::ApiCredentials::shared, true, false},
      {cc::config::NetworkPolicy::none, cc::config::ApiCredentials::gateway, false, true},
      {cc::config::NetworkPolicy::none, cc::config::ApiCredentials::separate, false, false},
  };
  for (const auto& c : cases) {
    AppleProject p("1.2.2");
    p.engine().set_network_program(CC_BINARY);
    p.ctx().config.network.policy = c.policy;
    p.ctx().config.credentials.api = c.api;
    p.env().set("ANTHROPIC_API_KEY", "sk-ant-api03-" + std::string(80, 'y'));
    p.engine().start(p.ctx());
    const fs::path sockets = cc::engine::image::host_network_socket_dir(p.paths().state_dir);
    Args socket_mounts;
    if (c.proxy) socket_mounts.insert(socket_mounts.end(), {"--volume", (sockets / "proxy.sock").string() + ":/run/claude-container/proxy.sock"});
    if (c.gateway) socket_mounts.insert(socket_mounts.end(), {"--volume", (sockets / "gateway.sock").string() + ":/run/claude-container/gateway.sock"});
    const Calls calls = p.take_calls();
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back(), run_call(p, {"--volume", p.paths().volume_dir().string() + ":/workspace"}, true, {}, socket_mounts))
        << cc::config::to_string(c.policy) << " + " << cc::config::to_string(c.api) << "\n" << joined(calls);
  }
}

TEST(AppleEngine, FullNetworkWithTheGatewayIsRefused) {
  // The gateway is a host socket relayed inside; with the engine's own network there is none.
  AppleProject p("1.2.2");
  p.ctx().config.network.policy = cc::config::NetworkPolicy::full;
  p.ctx().config.credentials.api = cc::config::ApiCredentials::gateway;
  EXPECT_THROW(p.engine().start(p.ctx()), cc::Error);
  for (const auto& call : p.take_calls()) EXPECT_NE(call.front(), "run");
}

TEST(AppleEngine, SshAgentGoesInAsASocketVolumeNotPublishSocket) {
  AppleProject p("1.2.2");
  // An agent: a listening socket is what the engine checks for.
  const fs::path agent = p.root() / "agent.sock";
  cc::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  agent.string().copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  p.env().set("SSH_AUTH_SOCK", agent.string());
  p.ctx().config.git.credentials = cc::config::GitCredentials::ssh;
  p.engine().start(p.ctx());
  const Calls calls = p.take_calls();
  ASSERT_FALSE(calls.empty());
  const Args& run = calls.back();
  EXPECT_EQ(run, run_call(p, {"--volume", p.paths().volume_dir().string() + ":/workspace"}, true,
                          {"--volume", agent.string() + ":/run/claude-container-git/ssh-agent.sock"}))
      << joined(calls);
  EXPECT_EQ(std::find(run.begin(), run.end(), "--publish-socket"), run.end())
      << "--publish-socket relays a socket out of the container, not into it";
}

TEST(AppleEngine, HybridStorageIsRefusedBeforeAnythingIsMade) {
  AppleProject p("1.2.2");
  p.ctx().config.storage.type = cc::config::StorageType::hybrid;
  try {
    p.engine().start(p.ctx());
    FAIL() << "hybrid storage started on Apple's container";
  } catch (const cc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("overlay"), std::string::npos) << e.what();
  }
  for (const auto& call : p.take_calls()) {
    EXPECT_NE(call.front(), "run");
    EXPECT_NE(call.front(), "build");
    EXPECT_NE(call.front(), "volume");
  }
  EXPECT_TRUE(p.stand_in().state()["containers"].empty());
}

TEST(AppleEngine, TheOldestReleaseIsRefusedWithTheReasonAndTheUpgrade) {
  // 0.5.0 has no --network none, --ulimit or --cap-drop: nothing the engine asks for runs there.
  AppleProject p("0.5.0");
  try {
    p.engine().start(p.ctx());
    FAIL() << "started on 0.5.0";
  } catch (const cc::Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), cc::ExitCode::usage);
    EXPECT_NE(what.find("--network none"), std::string::npos) << what;
    EXPECT_NE(what.find("--cap-drop"), std::string::npos) << what;
    EXPECT_NE(what.find("0.5.0"), std::string::npos) << what;
    EXPECT_NE(what.find("update-container.sh"), std::string::npos) << what;
  }
  // Asked and refused: nothing was built, created or run.
  EXPECT_EQ(p.take_calls(), with_prologue({{"inspect", p.names().container}}));
  // 0.5.0 answers an unknown name with [] and exit 0: still not created.
  EXPECT_EQ(p.engine().status(p.ctx()).state, ContainerState::not_created);
}

TEST(AppleEngine, ARelease0_12RunsWithItsOwnJsonShapeAndSeesStoppedContainers) {
  AppleProject p("0.12.3");
  const auto names = p.names();
  EXPECT_EQ(p.engine().status(p.ctx()).state, ContainerState::not_created);  // `[]`, exit 0
  p.take_calls();
  p.engine().start(p.ctx());
  Calls expected = with_prologue(first_start_until_build(p));
  expected.push_back(build_call(p));
  expected.push_back(run_call(p, {"--volume", p.paths().volume_dir().string() + ":/workspace"}, true));
  EXPECT_EQ(p.take_calls(), expected) << joined(p.stand_in().calls());
  EXPECT_EQ(p.engine().status(p.ctx()).state, ContainerState::running);
  p.engine().stop(p.ctx(), {std::chrono::seconds(3)});
  EXPECT_EQ(p.engine().status(p.ctx()).state, ContainerState::stopped);
  // The image is reused while the Containerfile is unchanged: no second build.
  p.engine().destroy(p.ctx());
  p.take_calls();
  p.engine().start(p.ctx());
  for (const auto& call : p.take_calls()) EXPECT_NE(call.front(), "build") << "rebuilt an unchanged image";
}

// The CLI hands the engine the digest of the Containerfile the user approved; a file swapped
// after that check (a git pull, a bind-mounted container writing it) is refused before any
// build: its RUN steps would run on this machine. The approved content still builds after.
TEST(AppleEngine, AContainerfileSwappedAfterTheApprovalIsNeverBuilt) {
  AppleProject p("1.2.2");
  const fs::path file = p.ctx().project_dir / ".claude-container" / "Containerfile";
  cc::write_file_atomic(file, "FROM debian:stable-slim\nRUN touch /host-owned\n");
  p.take_calls();
  try {
    p.engine().start(p.ctx());
    ADD_FAILURE() << "a Containerfile that is not the approved one was accepted";
  } catch (const cc::Error& e) {
    EXPECT_EQ(e.code(), cc::ExitCode::usage);
    EXPECT_NE(std::string(e.what()).find("is not the one you approved"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("`claude-container trust`"), std::string::npos) << e.what();
  }
  for (const auto& call : p.take_calls()) EXPECT_NE(call.front(), "build") << joined(p.stand_in().calls());
  EXPECT_FALSE(fs::exists(p.paths().state_dir / "Containerfile")) << "the swapped content was copied for a build";

  cc::write_file_atomic(file, "FROM debian:stable-slim\n");
  p.engine().start(p.ctx());
  Calls calls = p.take_calls();
  EXPECT_NE(std::find(calls.begin(), calls.end(), build_call(p)), calls.end()) << joined(calls);
}

TEST(AppleEngine, StartsTheServiceWhenItIsDown) {
  AppleProject p("1.2.2", /*service_up=*/false);
  auto result = p.engine().start(p.ctx());
  const Calls calls = p.take_calls();
  ASSERT_GE(calls.size(), 4u) << joined(calls);
  // The kernel prompt answered by flag: a first start would otherwise block on stdin.
  EXPECT_EQ(Calls(calls.begin(), calls.begin() + 4),
            (Calls{{"--version"}, {"system", "status"}, {"system", "start", "--enable-kernel-install"}, {"system", "status"}}))
      << joined(calls);
  EXPECT_EQ(calls.back().front(), "run");
  ASSERT_FALSE(result.notes.empty());
  EXPECT_NE(result.notes.front().find("container system start"), std::string::npos);
}

TEST(AppleEngine, WithoutApplesCliItSaysWhereItRuns) {
  AppleProject p("1.2.2");
  const fs::path empty = p.root() / "empty-bin";
  fs::create_directories(empty);
  p.env().set("PATH", empty.string());
  if (cc::engine::image::find_program("container")) GTEST_SKIP() << "a `container` is installed system-wide";
  try {
    p.engine().start(p.ctx());
    FAIL() << "started without Apple's CLI";
  } catch (const cc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("macOS 26"), std::string::npos) << e.what();
  }
  p.env().set("PATH", p.stand_in().bin_dir());
}

TEST(AppleEngine, NeverTouchesAContainerMadeForAnotherProject) {
  AppleProject p("1.2.2");
  nlohmann::json state = p.stand_in().state();
  state["images"][p.names().image] = nlohmann::json::object();
  state["containers"][p.names().container] = {
      {"state", "stopped"},
      {"image", p.names().image},
      {"labels", {{cc::engine::image::kProjectLabel, "/somewhere/else"}}}};
  p.stand_in().set_state(state);
  EXPECT_THROW(p.engine().start(p.ctx()), cc::Error);
  EXPECT_THROW(p.engine().destroy(p.ctx()), cc::Error);
  for (const auto& call : p.take_calls()) {
    EXPECT_NE(call.front(), "start");
    EXPECT_NE(call.front(), "delete");
  }
  p.stand_in().set_state(nlohmann::json{{"service_up", true}});  // let the teardown's destroy pass
}

TEST(AppleEngine, DoctorNamesThePlatformTheReleaseAndTheService) {
  AppleProject p("0.12.3", /*service_up=*/false);
  const auto pre = p.engine().preflight(nullptr);
  EXPECT_EQ(pre.engine, "apple");
  std::map<std::string, cc::engine::PreflightCheck> by_name;
  for (const auto& check : pre.checks) by_name[check.name] = check;
  ASSERT_TRUE(by_name.count("platform"));
#if !defined(__APPLE__)
  EXPECT_EQ(by_name["platform"].level, cc::engine::CheckLevel::fail);
  EXPECT_NE(by_name["platform"].detail.find("macOS 26"), std::string::npos) << by_name["platform"].detail;
  EXPECT_FALSE(pre.ready());
#endif
  ASSERT_TRUE(by_name.count("container"));
  EXPECT_EQ(by_name["container"].level, cc::engine::CheckLevel::ok) << by_name["container"].detail;
  EXPECT_NE(by_name["container"].detail.find("0.12.3"), std::string::npos);
  ASSERT_TRUE(by_name.count("container system service"));
  EXPECT_EQ(by_name["container system service"].level, cc::engine::CheckLevel::warn);
  EXPECT_EQ(by_name["container system service"].fix, "container system start --enable-kernel-install");
  // doctor only looks: it started nothing.
  EXPECT_EQ(p.take_calls(), (Calls{{"--version"}, {"system", "status"}}));
}

TEST(AppleEngine, DoctorWarnsWhatAnOlderReleaseLacks) {
  AppleProject p("0.5.0");
  const auto pre = p.engine().preflight(nullptr);
  bool found = false;
  for (const auto& check : pre.checks) {
    if (check.name != "container") continue;
    found = true;
    EXPECT_EQ(check.level, cc::engine::CheckLevel::warn);
    EXPECT_NE(check.detail.find("--network none"), std::string::npos) << check.detail;
    EXPECT_NE(check.detail.find("--cap-drop"), std::string::npos) << check.detail;
  }
  EXPECT_TRUE(found);
}

// The CLI picks the apple engine from config.json and drives it: start, status, exec, stop,
// status again (a stopped container is stopped), destroy.
TEST(AppleEngineCli, TheCommandsReachApplesCliThroughTheEngine) {
  cc::test::AppleStandIn stand_in("1.2.2");  // outlives env, whose destructor runs destroy
  cc::test::EngineEnv env(cc::test::EngineUser::root);
  CC_SKIP_UNLESS_FEATURE(env.usable(), env.feature()) << env.why_unusable();
  env.write_project_file(".claude-container/Containerfile", "FROM debian:stable-slim\n");
  env.write_config("volume", "none", "\"engine\": \"apple\", \"image\": {\"base\": \"debian\"}");
  env.set_env("PATH", stand_in.bin_dir() + ":" + env.environment().at("PATH"));

  auto r = env.cli({"start"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = env.cli({"status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto status = nlohmann::json::parse(r.out);
  EXPECT_EQ(status.value("state", ""), "running") << r.out;
  EXPECT_NE(r.out.find("apple"), std::string::npos) << r.out;

  r = env.exec({"claude", "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stand-in exec in cc-"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": claude --version"), std::string::npos) << r.out;

  r = env.cli({"stop"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = env.cli({"status", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out).value("state", ""), "stopped") << r.out;

  bool ran = false, stopped = false;
  for (const auto& call : stand_in.calls()) {
    ran = ran || call.front() == "run";
    stopped = stopped || call.front() == "stop";
  }
  EXPECT_TRUE(ran && stopped) << joined(stand_in.calls());

  r = env.cli({"destroy", "--yes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(stand_in.state()["containers"].empty());
}

}  // namespace
