// The podman engine for real (DESIGN.md section 8): the whole lifecycle, every storage type and
// every network policy, driven through the claude-container binary against Podman on this
// machine, with a base image made from the Debian archive (support/podman_base_image.hpp).
// Every CLI call has its own timeout, so a hung podman fails a test instead of the suite.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/image/host_network.hpp"
#include "engine/image/image_engine.hpp"
#include "support/engine_env.hpp"
#include "support/messages_stand_in.hpp"
#include "support/net_upstream.hpp"
#include "engine/image/podman_cli.hpp"
#include "support/podman_base_image.hpp"
#include "support/pty_session.hpp"
#include "support/required_feature.hpp"
#include "support/run_command.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPodman = "/usr/bin/podman";
// The image's user gets the project owner's uid (ARG USER_UID); a non-root owner, as a real
// project has, so bind storage is writable inside and stays the owner's on the host.
constexpr uid_t kOwner = 4242;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

CommandResult podman(const std::vector<std::string>& args, int timeout = 60) {
  std::vector<std::string> argv{kPodman};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.timeout_seconds = timeout;
  return run_command(argv, options);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void give_tree(const fs::path& root, uid_t uid) {
  ::lchown(root.c_str(), uid, uid);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    ::lchown(it->path().c_str(), uid, uid);
  }
}

class PodmanEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = podman_unavailable_reason();
    CC_SKIP_UNLESS_FEATURE(why.empty(), "podman") << why;
    const std::string image = ensure_podman_base_image();
    ASSERT_EQ(image, "") << "the base image could not be made";
  }

  void TearDown() override {
    if (!env_) return;
    const auto names = engine::image::image_names(env_->name(), env_->project());
    env_.reset();  // destroys the container and its volumes
    podman({"image", "rm", "--force", names.image});
  }

  // A project on the podman engine with `storage`, `policy` and `extra` config members.
  // `files`: project files written before the config is approved (ones it names).
  void make_project(const std::string& storage, const std::string& policy, const std::string& extra = "",
                    const std::map<std::string, std::string>& files = {}) {
    env_ = std::make_unique<EngineEnv>(EngineUser::root, storage, policy);
    ASSERT_TRUE(env_->usable()) << env_->why_unusable();
    env_->write_project_file(".claude-container/Containerfile", test_containerfile());
    for (const auto& [name, content] : files) env_->write_project_file(name, content);
    env_->write_config(storage, policy, R"("engine": "podman")" + (extra.empty() ? "" : ", " + extra));
    give_tree(env_->project(), kOwner);
  }

  CommandResult cli(const std::vector<std::string>& args, int timeout = 180) const {
    return env_->cli(args, "", timeout);
  }
  CommandResult sh(const std::string& script) const { return cli({"exec", "--", "/bin/sh", "-c", script}, 60); }

  nlohmann::json status() const {
    auto r = cli({"--json", "status"}, 60);
    try {
      return nlohmann::json::parse(r.out);
    } catch (const nlohmann::json::exception&) {
      ADD_FAILURE() << "status --json: " << describe(r);
      return nlohmann::json::object();
    }
  }
  std::string state() const { return status().value("state", ""); }

  // diff, then apply exactly what it showed (the container must be stopped).
  CommandResult apply() const {
    auto diff = cli({"--json", "diff"}, 60);
    std::string digest;
    try {
      digest = nlohmann::json::parse(diff.out).value("digest", "");
    } catch (const nlohmann::json::exception&) {
      ADD_FAILURE() << "diff --json: " << describe(diff);
    }
    return cli({"apply", "--digest", digest}, 60);
  }

  engine::image::ImageNames names() const { return engine::image::image_names(env_->name(), env_->project()); }

  std::unique_ptr<EngineEnv> env_;
};

// start, exec, stop (data kept, status sees it stopped), start again, diff/apply of the volume,
// destroy removing exactly the container and its volumes.
TEST_F(PodmanEngineTest, VolumeLifecycle) {
  make_project("volume", "none");
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  EXPECT_NE(start.out.find("Created"), std::string::npos) << describe(start);
  auto again = cli({"start"});
  EXPECT_EQ(again.exit_code, 0) << describe(again);

  auto id = sh("id -u; id -un; pwd; cat README.md");
  ASSERT_EQ(id.exit_code, 0) << describe(id);
  EXPECT_EQ(id.out, std::to_string(kOwner) + "\nclaude\n/workspace\nhello from the project\n");
  auto exit_code = sh("exit 7");
  EXPECT_EQ(exit_code.exit_code, 7) << describe(exit_code);

  auto running = status();
  EXPECT_EQ(running.value("state", ""), "running") << running.dump();
  EXPECT_EQ(running.value("engine", ""), "podman") << running.dump();
  EXPECT_TRUE(running["pid"].is_number_integer()) << running.dump();

  ASSERT_EQ(sh("echo made inside > new.txt").exit_code, 0);
  EXPECT_FALSE(fs::exists(env_->project() / "new.txt")) << "volume storage never writes the project";
  auto stop = cli({"stop"});
  ASSERT_EQ(stop.exit_code, 0) << describe(stop);
  EXPECT_EQ(state(), "stopped");

  ASSERT_EQ(cli({"start"}).exit_code, 0);
  auto kept = sh("cat new.txt");
  EXPECT_EQ(kept.out, "made inside\n") << describe(kept);
  auto diff = cli({"diff"});
  EXPECT_NE(diff.out.find("new.txt"), std::string::npos) << describe(diff);
  auto refused = apply();
  EXPECT_NE(refused.exit_code, 0) << "apply needs the container stopped";
  ASSERT_EQ(cli({"stop"}).exit_code, 0);
  auto applied_now = apply();
  ASSERT_EQ(applied_now.exit_code, 0) << describe(applied_now);
  std::ifstream applied(env_->project() / "new.txt");
  std::string line;
  std::getline(applied, line);
  EXPECT_EQ(line, "made inside");

  auto destroy = cli({"destroy", "--yes"});
  ASSERT_EQ(destroy.exit_code, 0) << describe(destroy);
  EXPECT_NE(podman({"container", "exists", names().container}).exit_code, 0);
  EXPECT_NE(podman({"volume", "exists", names().home_volume}).exit_code, 0);
  EXPECT_NE(podman({"volume", "exists", names().workspace_volume}).exit_code, 0);
  EXPECT_EQ(state(), "not-created");
}

// bind: the project itself, read-write, files stay the owner's; nothing to review.
TEST_F(PodmanEngineTest, BindStorageWritesTheProject) {
  make_project("bind", "none");
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto write = sh("echo from inside > bound.txt");
  ASSERT_EQ(write.exit_code, 0) << describe(write);
  struct stat st {};
  ASSERT_EQ(::stat((env_->project() / "bound.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kOwner);
  EXPECT_EQ(cli({"diff"}).exit_code, 3) << "bind storage has no change layer";
}

// hybrid: podman's overlay mount with our upper layer; the project stays as it was until apply.
TEST_F(PodmanEngineTest, HybridStorageKeepsChangesUntilApply) {
  make_project("hybrid", "none");
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto change = sh("echo changed > README.md && echo added > added.txt && cat README.md");
  ASSERT_EQ(change.exit_code, 0) << describe(change);
  EXPECT_EQ(change.out, "changed\n");
  std::ifstream readme(env_->project() / "README.md");
  std::string line;
  std::getline(readme, line);
  EXPECT_EQ(line, "hello from the project") << "the project is the read-only lower layer";
  EXPECT_FALSE(fs::exists(env_->project() / "added.txt"));
  auto diff = cli({"diff"});
  EXPECT_NE(diff.out.find("added.txt"), std::string::npos) << describe(diff);
  EXPECT_NE(diff.out.find("README.md"), std::string::npos) << describe(diff);
  ASSERT_EQ(cli({"stop"}).exit_code, 0);
  auto applied = apply();
  ASSERT_EQ(applied.exit_code, 0) << describe(applied);
  EXPECT_TRUE(fs::exists(env_->project() / "added.txt"));
}

// none: --network none, so no interface but loopback and no route at all.
TEST_F(PodmanEngineTest, NoneHasNoRoute) {
  make_project("volume", "none");
  ASSERT_EQ(cli({"start"}).exit_code, 0);
  auto links = sh("ls /sys/class/net");
  EXPECT_EQ(links.out, "lo\n") << describe(links);
  auto routes = sh("tail -n +2 /proc/net/route | wc -l");
  EXPECT_EQ(routes.out, "0\n") << describe(routes);
  // 192.0.2.1 (TEST-NET-1): unreachable without a route, whatever the host could reach.
  auto connect = sh("curl -sS --noproxy '*' -m 5 http://192.0.2.1/ 2>&1; echo curl=$?");
  EXPECT_NE(connect.out.find("curl=7"), std::string::npos) << describe(connect);
}

// isolated: the host side's egress proxy, relayed inside, denies and allows as on the native
// engine; allow/deny apply live; the audit log and the denial count show it.
TEST_F(PodmanEngineTest, IsolatedProxyDeniesAndAllowsLive) {
  auto recorder = std::make_shared<HttpRecorder>();
  LoopbackServer upstream(http_handler("hello through the proxy\n", recorder));
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  make_project("volume", "isolated");
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  // --noproxy '': NO_PROXY names 127.0.0.1 (the relays' own address), and this test's upstream
  // is on the host's 127.0.0.1, reached only through the proxy.
  const std::string fetch = "curl -sS --noproxy '' -o /dev/null -w '%{http_code}' -m 20 http://" + target + "/x";
  auto denied = sh(fetch);
  EXPECT_EQ(denied.out, "403") << describe(denied);
  auto allow = cli({"allow", target});
  ASSERT_EQ(allow.exit_code, 0) << describe(allow);
  auto allowed = sh("curl -sS --noproxy '' -m 20 http://" + target + "/x");
  EXPECT_EQ(allowed.out, "hello through the proxy\n") << describe(allowed);
  auto deny = cli({"deny", target});
  ASSERT_EQ(deny.exit_code, 0) << describe(deny);
  EXPECT_EQ(sh(fetch).out, "403");

  auto audit = cli({"logs", "--network"});
  EXPECT_NE(audit.out.find("ALLOW"), std::string::npos) << describe(audit);
  EXPECT_NE(audit.out.find("DENY"), std::string::npos) << describe(audit);
  auto after = status();
  EXPECT_GE(after["network"].value("denials", 0), 2) << after.dump();
  // Stop ends the host side too; a start brings it back, and the relays find its new sockets.
  ASSERT_EQ(cli({"stop"}).exit_code, 0);
  ASSERT_EQ(cli({"start"}).exit_code, 0);
  EXPECT_EQ(sh(fetch).out, "403");
  // A host side killed under a running container: `start` sees it and starts it again.
  const auto state_dir = engine::image::image_container_paths("podman", env_->name(), env_->project()).state_dir;
  auto host = engine::image::host_network_status(state_dir);
  ASSERT_TRUE(host.running);
  ASSERT_EQ(::kill(host.pid, SIGKILL), 0);
  for (int i = 0; i < 100 && engine::image::host_network_status(state_dir).running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(sh(fetch).out, "000") << "nothing behind the relay";
  auto restarted = cli({"start"});
  ASSERT_EQ(restarted.exit_code, 0) << describe(restarted);
  EXPECT_NE(restarted.err.find("started it again"), std::string::npos) << describe(restarted);
  EXPECT_EQ(sh(fetch).out, "403");
}

// development reaches what isolated does through the same proxy (the lists differ, not the path).
TEST_F(PodmanEngineTest, DevelopmentPolicyUsesTheProxy) {
  make_project("volume", "development");
  ASSERT_EQ(cli({"start"}).exit_code, 0);
  auto env = sh("echo $HTTPS_PROXY; tail -n +2 /proc/net/route | wc -l");
  EXPECT_EQ(env.out, "http://127.0.0.1:3128\n0\n") << describe(env);
}

// full: podman's own network (an interface besides loopback), no proxy variables.
TEST_F(PodmanEngineTest, FullUsesTheEnginesNetwork) {
  make_project("volume", "full");
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto env = sh("ls /sys/class/net | grep -vc '^lo$'; echo ${HTTPS_PROXY:-none}");
  EXPECT_EQ(env.out, "1\nnone\n") << describe(env);
}

// gateway: the agent's requests go to ANTHROPIC_BASE_URL inside, relayed to the host side,
// which adds the real key on the way to the (stand-in) Messages API; inside only a placeholder.
TEST_F(PodmanEngineTest, GatewayAddsTheKeyBehindTheRelay) {
  MessagesStandIn api;
  api.start();
  const std::string real_key = "sk-ant-api03-podman-test-key-0123456789";
  make_project("volume", "isolated",
               R"("credentials": {"api": "gateway", "upstream": "https://127.0.0.1:)" + std::to_string(api.port()) +
                   R"(", "ca_file": "test-ca.pem"})",
               {{"test-ca.pem", api.ca_pem()}});
  env_->set_env("ANTHROPIC_API_KEY", real_key);
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto reply = sh("env | grep -c " + real_key + "; curl -sS -m 30 \"$ANTHROPIC_BASE_URL/v1/messages\" "
                  "-H \"x-api-key: $ANTHROPIC_API_KEY\" -H 'content-type: application/json' "
                  "-d '{\"model\":\"m\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'");
  EXPECT_EQ(reply.out.rfind("0\n", 0), 0u) << "the real key is not inside: " << describe(reply);
  EXPECT_NE(reply.out.find("Hello from the stand-in."), std::string::npos)
      << describe(reply) << "\nhost side log:\n"
      << read_text(engine::image::image_container_paths("podman", env_->name(), env_->project()).state_dir / "host-network" /
                   "host.log");
  auto requests = api.requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().header("x-api-key"), real_key);
  auto after = status();
  EXPECT_NE(after.dump().find("api_key"), std::string::npos) << after.dump();
}

// A container carrying this project's name but made for another path is never entered,
// stopped or removed.
TEST_F(PodmanEngineTest, ForeignContainerIsNeverTouched) {
  make_project("volume", "none");
  auto made = podman({"create", "--name", names().container, "--label",
                      std::string(engine::image::kProjectLabel) + "=/somewhere/else", kPodmanBaseImage, "true"});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  auto start = cli({"start"});
  EXPECT_NE(start.exit_code, 0);
  EXPECT_NE(start.err.find("/somewhere/else"), std::string::npos) << describe(start);
  auto destroy = cli({"destroy", "--yes"});
  EXPECT_NE(destroy.exit_code, 0) << describe(destroy);
  EXPECT_EQ(podman({"container", "exists", names().container}).exit_code, 0) << "still there";
  podman({"rm", "--force", names().container});
}

// The image is built once and reused; a changed Containerfile is rebuilt (its hash is a label).
TEST_F(PodmanEngineTest, ImageRebuiltOnlyWhenTheContainerfileChanges) {
  make_project("volume", "none");
  auto first = cli({"start"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  EXPECT_NE(first.err.find("built the image"), std::string::npos) << describe(first);
  ASSERT_EQ(cli({"destroy", "--yes"}).exit_code, 0);
  auto reused = cli({"start"});
  ASSERT_EQ(reused.exit_code, 0) << describe(reused);
  EXPECT_EQ(reused.err.find("built the image"), std::string::npos) << describe(reused);
  ASSERT_EQ(cli({"destroy", "--yes"}).exit_code, 0);
  env_->write_project_file(".claude-container/Containerfile", test_containerfile() + "LABEL changed=yes\n");
  give_tree(env_->project(), kOwner);
  auto rebuilt = cli({"start"});
  ASSERT_EQ(rebuilt.exit_code, 0) << describe(rebuilt);
  EXPECT_NE(rebuilt.err.find("rebuilt the image"), std::string::npos) << describe(rebuilt);
  // destroy keeps the image unless asked; --image removes it (and only it: the base stays).
  ASSERT_EQ(cli({"destroy", "--yes"}).exit_code, 0);
  EXPECT_EQ(podman({"image", "exists", names().image}).exit_code, 0);
  auto removed = cli({"destroy", "--yes", "--image"});
  ASSERT_EQ(removed.exit_code, 0) << describe(removed);
  EXPECT_NE(podman({"image", "exists", names().image}).exit_code, 0);
  EXPECT_EQ(podman({"image", "exists", kPodmanBaseImage}).exit_code, 0);
}

// shell: `exec -it` on a terminal; the shell inside has a terminal of its own and its exit
// status comes back.
TEST_F(PodmanEngineTest, ShellHasATerminal) {
  make_project("volume", "none");
  ASSERT_EQ(cli({"start"}).exit_code, 0);
  PtyOptions options;
  options.cwd = env_->project();
  options.env = env_->environment();
  options.env["TERM"] = "xterm";
  PtySession session({CC_BINARY, "--project", env_->project().string(), "shell"}, options);
  try {
    session.send("test -t 0 && echo tty-$((6 * 7))\r");
    session.expect("tty-42", 60);
    session.send("exit 3\r");
    EXPECT_EQ(session.wait_exit(60), 3) << session.transcript();
  } catch (const std::exception& error) {
    FAIL() << error.what() << "\n" << session.transcript();
  }
}

// git.credentials "ssh": the host's agent socket is mounted where SSH_AUTH_SOCK points inside;
// the agent answers (its identities request) and no key is inside.
TEST_F(PodmanEngineTest, SshAgentSocketForGit) {
  CC_SKIP_UNLESS_FEATURE(::access("/usr/bin/ssh-agent", X_OK) == 0, "openssh-client") << "ssh-agent is not installed";
  make_project("volume", "none", R"("credentials": {"api": "separate"}, "git": {"credentials": "ssh"})");
  // The agent runs as the project's owner, as the user's own agent would: the image's user
  // has that uid, so it may connect.
  const fs::path dir = env_->root() / "agent";
  fs::create_directories(dir);
  give_tree(dir, kOwner);
  const std::string sock = (dir / "agent.sock").string();
  pid_t agent = ::fork();
  if (agent == 0) {
    if (::setgid(kOwner) != 0 || ::setuid(kOwner) != 0) ::_exit(126);
    ::execl("/usr/bin/ssh-agent", "ssh-agent", "-D", "-a", sock.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(agent, 0);
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  } reap{agent};
  for (int i = 0; i < 100 && !fs::exists(sock); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(sock));
  env_->set_env("SSH_AUTH_SOCK", sock);
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  // SSH2_AGENTC_REQUEST_IDENTITIES (11); the answer is SSH2_AGENT_IDENTITIES_ANSWER (12), none.
  // stdin stays open a moment: the agent drops a reply to a client that already half-closed.
  auto ask = sh("(printf '\\0\\0\\0\\1\\13'; sleep 1) | socat -t 5 - UNIX-CONNECT:\"$SSH_AUTH_SOCK\" | od -An -tx1");
  EXPECT_EQ(ask.out, " 00 00 00 05 0c 00 00 00 00\n") << describe(ask);
}

// A start that cannot finish (here: the gateway has no credential) leaves nothing behind, so
// there is never a volume that `destroy`, seeing no container, could not remove.
TEST_F(PodmanEngineTest, RefusedStartLeavesNothing) {
  make_project("volume", "isolated", R"("credentials": {"api": "gateway"})");
  auto start = cli({"start"});
  EXPECT_EQ(start.exit_code, 1) << describe(start);
  EXPECT_NE(start.err.find("ANTHROPIC_API_KEY"), std::string::npos) << describe(start);
  EXPECT_NE(podman({"volume", "exists", names().home_volume}).exit_code, 0);
  EXPECT_NE(podman({"volume", "exists", names().workspace_volume}).exit_code, 0);
  EXPECT_NE(podman({"container", "exists", names().container}).exit_code, 0);
  EXPECT_EQ(state(), "not-created");
}

// doctor's checks for podman (Engine::preflight): installed, answers, and this host's cgroups.
TEST_F(PodmanEngineTest, PreflightFindsPodmanAndNamesTheCgroupLayout) {
  engine::image::ImageEngine engine(engine::image::make_podman_cli());
  auto pre = engine.preflight(nullptr);
  EXPECT_EQ(pre.engine, "podman");
  EXPECT_TRUE(pre.ready());
  bool version = false, cgroups = false;
  for (const auto& c : pre.checks) {
    if (c.name == "podman") version = c.detail.find("podman version") != std::string::npos;
    if (c.name == "cgroups") cgroups = c.detail.find(to_string(engine::image::detect_cgroup_layout())) == 0;
  }
  EXPECT_TRUE(version && cgroups);
}

}  // namespace
}  // namespace cc::test
