// The image engines' network without a container engine (issue 15): the host side
// (`__image-network`, serving the confined network service on unix sockets) and the real socat
// relay, run in a network namespace that has only loopback, as an engine's `--network none`
// container would. The relay finds the sockets at their host path (same mount namespace); on
// an engine they are bind-mounted or published at /run/claude-container.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/image/host_network.hpp"
#include "net/proxy_env.hpp"
#include "support/messages_stand_in.hpp"
#include "support/net_netns.hpp"
#include "support/net_proxy_harness.hpp"
#include "support/net_upstream.hpp"
#include "support/required_feature.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"

using namespace cc;
using namespace cc::test;
namespace image = cc::engine::image;
namespace fs = std::filesystem;
using config::NetworkPolicy;

namespace {

constexpr const char* kSocat = "/usr/bin/socat";
constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kNsenter = "/usr/bin/nsenter";

bool tools_present() { return fs::exists(kSocat) && fs::exists(kCurl) && fs::exists(kNsenter); }

// The relay entrypoint (with `sleep` as the container's command) running in the namespace, in
// a process group of its own so the socat loops go with it.
class RelayInNetns {
 public:
  RelayInNetns(const NetnsChild& ns, const std::vector<std::string>& entrypoint) {
    std::vector<std::string> args = {kNsenter, "--net=/proc/" + std::to_string(ns.pid()) + "/ns/net", "--"};
    args.insert(args.end(), entrypoint.begin(), entrypoint.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char path_env[] = "PATH=/usr/bin:/bin";
    char* envp[] = {path_env, nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::execve(argv[0], argv.data(), envp);
      ::_exit(127);
    }
    if (pid_ > 0) ::setpgid(pid_, pid_);
  }
  ~RelayInNetns() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  RelayInNetns(const RelayInNetns&) = delete;
  RelayInNetns& operator=(const RelayInNetns&) = delete;

 private:
  pid_t pid_ = -1;
};

// Waits (bounded) until something inside the namespace accepts on 127.0.0.1:port.
bool wait_for_port(const NetnsChild& ns, std::uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    if (ns.run_inside([port] { return tcp_connect_errno("127.0.0.1", port, 1000); }) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

// curl inside the namespace with exactly `env` (what the container's processes get).
CommandResult curl_inside(const NetnsChild& ns, const std::map<std::string, std::string>& env,
                          const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kNsenter, "--net=/proc/" + std::to_string(ns.pid()) + "/ns/net", "--", kCurl,
                                   "-sS", "--max-time", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandOptions options;
  options.env = env;
  options.env["PATH"] = "/usr/bin:/bin";
  options.replace_env = true;
  options.timeout_seconds = 60;
  return run_command(argv, options);
}

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

// The container's environment for the proxy, except NO_PROXY: the test's upstreams are on
// 127.0.0.1 of the host, which NO_PROXY (rightly) names for the container's own loopback.
std::map<std::string, std::string> proxy_env_reaching_host_loopback(std::map<std::string, std::string> env) {
  env.erase("NO_PROXY");
  env.erase("no_proxy");
  return env;
}

[[maybe_unused]] bool process_exists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

[[maybe_unused]] bool eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// A non-blocking unix listener at `path`, as the host side makes them (0666).
UniqueFd unix_listener(const fs::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 64) != 0) return {};
  ::chmod(path.c_str(), 0666);
  return fd;
}

class ImageHostNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    CC_SKIP_UNLESS_FEATURE(tools_present(), "socat") << "socat, curl and nsenter are needed for the relay tests";
    ns_ = std::make_unique<NetnsChild>();
    CC_SKIP_UNLESS_FEATURE(ns_->ok(), "root-engine") << ns_->error();
    state_ = dir_ / "state";
    fs::create_directory(state_);
    fs::permissions(state_, fs::perms::owner_all, fs::perm_options::replace);
  }
  void TearDown() override {
    if (!state_.empty()) image::stop_host_network(state_);
  }

  image::HostNetworkSpec spec(config::Network network) const {
    image::HostNetworkSpec s;
    s.state_dir = state_;
    s.network = std::move(network);
    s.audit_log = dir_ / "audit" / "network.jsonl";
    s.program = CC_BINARY;
    return s;
  }
  fs::path audit_log() const { return dir_ / "audit" / "network.jsonl"; }

  TempDir dir_{"cc-imgnet"};
  fs::path state_;
  std::unique_ptr<NetnsChild> ns_;
};

}  // namespace

TEST(ImageRelay, EntrypointRelaysEachSocketOnLoopbackThenRunsTheCommand) {
  auto argv = image::relay_entrypoint({"/usr/bin/sleep", "infinity"}, true, true);
  ASSERT_GE(argv.size(), 8u);
  EXPECT_EQ(argv[0], "/bin/sh");
  EXPECT_EQ(argv[1], "-c");
  EXPECT_NE(argv[2].find("TCP-LISTEN:$1,bind=127.0.0.1,fork,reuseaddr"), std::string::npos) << argv[2];
  EXPECT_NE(argv[2].find("UNIX-CONNECT:$d/$2"), std::string::npos) << argv[2];
  EXPECT_NE(argv[2].find("exec \"$@\""), std::string::npos) << argv[2];
  EXPECT_EQ(argv[4], image::kContainerSocketDir);
  EXPECT_EQ(argv[5], "3128=proxy.sock 3129=gateway.sock");
  EXPECT_EQ(argv[6], "/usr/bin/sleep");
  EXPECT_EQ(argv[7], "infinity");
  EXPECT_EQ(image::relay_entrypoint({"/bin/true"}, true, false)[5], "3128=proxy.sock");
  EXPECT_EQ(image::relay_entrypoint({"/bin/true"}, false, true)[5], "3129=gateway.sock");
}

// The relay's script with no socat in the image says so, and still runs the command.
TEST(ImageRelay, WithoutSocatTheCommandStillRunsAndTheLogSaysWhy) {
  auto argv = image::relay_entrypoint({"/bin/echo", "command ran"}, true, false, "/nonexistent");
  CommandOptions options;
  options.env = {{"PATH", "/nonexistent"}};
  options.replace_env = true;
  auto r = run_command(argv, options);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "command ran\n");
  EXPECT_NE(r.err.find("socat is missing from the image"), std::string::npos) << r.err;
}

// The proxy itself accepts on a unix listener (what the service is handed on image engines),
// through the real relay in a loopback-only namespace.
TEST_F(ImageHostNetwork, EgressProxyServesAUnixListenerThroughTheRelay) {
  LoopbackServer upstream(http_handler("through the relay\n"));
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  fs::path sockets = dir_ / "sockets";
  fs::create_directory(sockets);
  std::vector<UniqueFd> listeners;
  listeners.push_back(unix_listener(sockets / image::kProxySocketName));
  ASSERT_TRUE(listeners.back());
  ProxyHarness proxy(network_config(NetworkPolicy::isolated, {target}), {}, {}, std::move(listeners));
  RelayInNetns relay(*ns_, image::relay_entrypoint({"/usr/bin/sleep", "300"}, true, false, sockets.string()));
  ASSERT_TRUE(wait_for_port(*ns_, net::kProxyPort));

  auto env = proxy_env_reaching_host_loopback(net::proxy_environment(net::kProxyPort));
  auto ok = curl_inside(*ns_, env, {"http://" + target + "/"});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(ok.out, "through the relay\n");
  auto denied = curl_inside(*ns_, env, {"-o", "/dev/null", "-w", "%{http_code}", "http://denied.invalid/"});
  EXPECT_EQ(denied.out, "403") << describe(denied);
  auto records = proxy.audit_records(2);
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[1].value("host", ""), "denied.invalid");
  EXPECT_EQ(records[1].value("decision", ""), "denied");
}
