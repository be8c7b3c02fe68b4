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
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>
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
#include "util/error.hpp"
#include "util/file_io.hpp"

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
// a process group of its own so the socat loops go with it. With `read_only_mount` (host
// directory, path inside), it runs in a mount namespace of its own where the socket directory
// is bind-mounted read-only, as an engine mounts it.
class RelayInNetns {
 public:
  RelayInNetns(const NetnsChild& ns, const std::vector<std::string>& entrypoint,
               std::optional<std::pair<fs::path, fs::path>> read_only_mount = std::nullopt) {
    std::vector<std::string> args = {kNsenter, "--net=/proc/" + std::to_string(ns.pid()) + "/ns/net", "--"};
    if (read_only_mount) {
      args.insert(args.end(), {"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
                               "/usr/bin/mount --bind -r \"$1\" \"$2\" && shift 2 && exec \"$@\"", "sh",
                               read_only_mount->first.string(), read_only_mount->second.string()});
    }
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
    if (ns.run_inside([port] { return tcp_connect_errno("127.0.0.1", port, 200); }, 5) == 0) return true;
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

// A detached process that ended may stay a zombie until init reaps it: that counts as gone.
bool process_exists(pid_t pid) {
  if (pid <= 0) return false;
  auto stat = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

bool eventually(const std::function<bool()>& condition) {
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
    CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root-engine") << "entering the namespace (nsenter) and the read-only mount need root";
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
    s.program = CC_BINARY;
    return s;
  }
  // Where the host side puts it by default (spec() leaves audit_log empty).
  fs::path audit_log() const { return state_ / "network" / "network.jsonl"; }

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

// The product path: `__image-network` (detached, found again by later calls) with the confined
// network service on unix sockets, the relay inside, and live allow/deny.
TEST_F(ImageHostNetwork, ProxyAllowsDeniesAndReloadsThroughTheRelay) {
  TestCa ca({"127.0.0.1"});
  LoopbackServer upstream(https_handler(ca, "secure hello\n"));
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  fs::path ca_file = dir_ / "ca.pem";
  std::ofstream(ca_file) << ca.ca_pem();

  auto network = network_config(NetworkPolicy::isolated, {target});
  auto host = image::start_host_network(spec(network));
  ASSERT_TRUE(host.proxy_socket.has_value());
  EXPECT_FALSE(host.gateway_socket.has_value());
  EXPECT_EQ(host.env.at("HTTPS_PROXY"), "http://127.0.0.1:3128");
  EXPECT_EQ(host.env.count("ANTHROPIC_BASE_URL"), 0u);
  EXPECT_EQ(host.socket_dir, image::host_network_socket_dir(state_));
  ASSERT_EQ(host.shares.size(), 1u);
  EXPECT_EQ(host.shares[0].container, "/run/claude-container/proxy.sock");
  EXPECT_EQ(fs::status(*host.proxy_socket).permissions() & fs::perms::all, static_cast<fs::perms>(0666));
  EXPECT_EQ(fs::status(host.socket_dir).permissions() & fs::perms::all, static_cast<fs::perms>(0755));
  EXPECT_EQ(fs::status(state_ / "host-network").permissions() & fs::perms::all, fs::perms::owner_all);

  // The socket directory read-only at another path, as docker/podman mount it: connecting
  // needs no write access to the mount, and the inside cannot replace the sockets.
  fs::path inside = dir_ / "run-claude-container";
  fs::create_directory(inside);
  RelayInNetns relay(*ns_, image::relay_entrypoint({"/usr/bin/sleep", "300"}, true, false, inside.string()),
                     std::make_pair(host.socket_dir, inside));
  ASSERT_TRUE(wait_for_port(*ns_, net::kProxyPort));
  auto env = proxy_env_reaching_host_loopback(host.env);
  const std::vector<std::string> https_get = {"--cacert", ca_file.string(), "https://" + target + "/"};

  auto ok = curl_inside(*ns_, env, https_get);
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(ok.out, "secure hello\n");

  auto denied = curl_inside(*ns_, env, {"-o", "/dev/null", "-w", "%{http_code}", "http://denied.invalid/"});
  EXPECT_EQ(denied.out, "403") << describe(denied);
  auto records = audit_records_in(audit_log(), 2, 10000);
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0].value("decision", ""), "allowed");
  EXPECT_EQ(records[1].value("host", ""), "denied.invalid");
  EXPECT_EQ(records[1].value("decision", ""), "denied");

  // Without a container engine's help the directly dialed upstream is not there: no route.
  EXPECT_NE(ns_->run_inside([&] { return tcp_connect_errno("127.0.0.1", upstream.port()); }), 0);

  // Live deny, then allow again: later calls find the running host side.
  image::reload_host_network(state_, network_config(NetworkPolicy::isolated, {target}, {target}));
  auto refused = curl_inside(*ns_, env, https_get);
  EXPECT_NE(refused.exit_code, 0) << describe(refused);
  image::reload_host_network(state_, network);
  auto again = curl_inside(*ns_, env, https_get);
  EXPECT_EQ(again.exit_code, 0) << describe(again);

  auto status = image::host_network_status(state_);
  EXPECT_TRUE(status.running) << status.detail;
  ASSERT_TRUE(status.stats.has_value()) << status.detail;
  EXPECT_EQ(status.stats->allowed, 2u);
  EXPECT_EQ(status.stats->denied, 2u);

  // A policy change is not a reload: it needs a restart, and says so.
  try {
    image::reload_host_network(state_, network_config(NetworkPolicy::development, {target}));
    ADD_FAILURE() << "a policy change was accepted live";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("restart the container"), std::string::npos) << e.what();
  }

  // Stop leaves no process and no socket.
  const pid_t pid = host.pid;
  image::stop_host_network(state_);
  EXPECT_TRUE(eventually([&] { return !process_exists(pid); }));
  EXPECT_FALSE(fs::exists(*host.proxy_socket));
  EXPECT_FALSE(fs::exists(state_ / "host-network" / "control.sock"));
  EXPECT_FALSE(fs::exists(state_ / "host-network" / "host.json"));
  auto after = image::host_network_status(state_);
  EXPECT_FALSE(after.running);
  EXPECT_FALSE(after.stale);
  auto gone = curl_inside(*ns_, env, https_get);
  EXPECT_NE(gone.exit_code, 0) << describe(gone);
}

// The gateway through the relay: the inside sends the placeholder, the stand-in API gets the
// real key, which never crosses into the namespace.
TEST_F(ImageHostNetwork, GatewayAddsTheRealKeyBehindTheRelay) {
  MessagesStandIn api;
  api.start();
  const std::string real_key = "sk-ant-api03-" + std::string(95, 'r');
  auto s = spec(network_config(NetworkPolicy::none));
  s.gateway = net::NetworkServiceGateway{"https://127.0.0.1:" + std::to_string(api.port()), api.ca_pem(),
                                         {net::CredentialKind::api_key, real_key}};
  auto host = image::start_host_network(s);
  EXPECT_FALSE(host.proxy_socket.has_value()) << "policy none runs no proxy";
  ASSERT_TRUE(host.gateway_socket.has_value());
  EXPECT_EQ(host.env.at("ANTHROPIC_BASE_URL"), "http://127.0.0.1:3129");
  EXPECT_EQ(host.env.count("HTTPS_PROXY"), 0u);
  // Neither the settings' file trail nor the argv holds the key.
  auto cmdline = read_file_if_exists("/proc/" + std::to_string(host.pid) + "/cmdline");
  ASSERT_TRUE(cmdline.has_value());
  EXPECT_EQ(cmdline->find("sk-ant"), std::string::npos);

  RelayInNetns relay(*ns_, image::relay_entrypoint({"/usr/bin/sleep", "300"}, false, true, host.socket_dir.string()));
  ASSERT_TRUE(wait_for_port(*ns_, net::kGatewayPort));
  auto r = curl_inside(*ns_, host.env,
                       {"-H", "x-api-key: placeholder-inside", "-H", "content-type: application/json", "-H",
                        "anthropic-version: 2023-06-01", "--data", R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]})",
                        host.env.at("ANTHROPIC_BASE_URL") + "/v1/messages"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("Hello from the stand-in."), std::string::npos) << describe(r);
  EXPECT_EQ(r.out.find(real_key), std::string::npos);
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("x-api-key"), real_key);
  EXPECT_EQ(requests[0].header_count("x-api-key"), 1u);
  // Counted when the exchange ends, a moment after curl has its answer.
  EXPECT_TRUE(eventually([&] {
    auto status = image::host_network_status(state_);
    return status.stats && status.stats->gateway_requests == 1;
  }));
}

// A host side killed with SIGKILL is seen by the next status, its service ends by itself, and
// stop (or the next start) cleans what it left.
TEST_F(ImageHostNetwork, AKilledHostSideIsDetectedAndCleaned) {
  auto host = image::start_host_network(spec(network_config(NetworkPolicy::isolated)));
  auto record = read_file_if_exists(state_ / "host-network" / "host.json");
  ASSERT_TRUE(record.has_value());
  const pid_t service = nlohmann::json::parse(*record).at("service_pid").get<pid_t>();
  EXPECT_TRUE(process_exists(service));

  try {
    image::start_host_network(spec(network_config(NetworkPolicy::isolated)));
    ADD_FAILURE() << "a second host side started for the same container";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already runs"), std::string::npos) << e.what();
  }

  ASSERT_EQ(::kill(host.pid, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] { return !process_exists(host.pid); }));
  EXPECT_TRUE(eventually([&] { return !process_exists(service); })) << "the network service outlived its host side";
  auto status = image::host_network_status(state_);
  EXPECT_FALSE(status.running);
  EXPECT_TRUE(status.stale);
  EXPECT_NE(status.detail.find("killed or crashed"), std::string::npos) << status.detail;

  image::stop_host_network(state_);
  EXPECT_FALSE(fs::exists(*host.proxy_socket));
  EXPECT_FALSE(image::host_network_status(state_).stale);
  // And a new one starts in its place.
  auto second = image::start_host_network(spec(network_config(NetworkPolicy::isolated)));
  EXPECT_TRUE(image::host_network_status(state_).running);
  image::stop_host_network(state_);
  EXPECT_TRUE(eventually([&] { return !process_exists(second.pid); }));
}

TEST_F(ImageHostNetwork, FullAndNothingToServeAreRefused) {
  EXPECT_THROW(image::start_host_network(spec(network_config(NetworkPolicy::full))), Error);
  EXPECT_THROW(image::start_host_network(spec(network_config(NetworkPolicy::none))), Error);
  EXPECT_FALSE(fs::exists(state_ / "host-network" / "host.json"));
}

// A state directory too long for a socket path (a Mac's ~/.local/state with a long container
// key; here longer than even Linux's 108 bytes): the host side binds in the short alias under
// TMPDIR instead, the relay connects there by name (socat, through a real sun_path), and
// stopping and removing it leaves nothing in TMPDIR.
TEST_F(ImageHostNetwork, ALongStateDirectoryServesThroughTheShortAlias) {
  LoopbackServer upstream(http_handler("through the alias\n"));
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  const fs::path tmp = dir_ / "tmp";
  fs::create_directory(tmp);
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);  // the detached host side inherits it
  const fs::path long_state = dir_ / std::string(60, 'x') / ".local" / "state" / "claude-container" / "demo-1a2b3c4d5e6f.docker";
  fs::create_directories(long_state);
  fs::permissions(long_state, fs::perms::owner_all, fs::perm_options::replace);
  struct Cleanup {
    fs::path state;
    std::string tmpdir;
    bool had;
    ~Cleanup() {
      image::stop_host_network(state);
      image::remove_host_network_socket_dir(state);
      if (had) {
        ::setenv("TMPDIR", tmpdir.c_str(), 1);
      } else {
        ::unsetenv("TMPDIR");
      }
    }
  } cleanup{long_state, saved, old_tmpdir != nullptr};
  ASSERT_GT((long_state / "host-network" / "sockets" / image::kProxySocketName).string().size(), 108u);

  auto s = spec(network_config(NetworkPolicy::isolated, {target}));
  s.state_dir = long_state;
  auto host = image::start_host_network(s);
  EXPECT_EQ(host.socket_dir, image::host_network_socket_dir(long_state));
  EXPECT_EQ(host.socket_dir.parent_path().parent_path(), tmp);
  ASSERT_TRUE(host.proxy_socket.has_value());
  EXPECT_LE(host.proxy_socket->string().size(), image::kPortableSocketPathMax);
  EXPECT_EQ(host.shares.at(0).host, *host.proxy_socket);
  EXPECT_EQ(fs::status(*host.proxy_socket).type(), fs::file_type::socket);

  {
    RelayInNetns relay(*ns_, image::relay_entrypoint({"/usr/bin/sleep", "300"}, true, false, host.socket_dir.string()));
    ASSERT_TRUE(wait_for_port(*ns_, net::kProxyPort));
    auto ok = curl_inside(*ns_, proxy_env_reaching_host_loopback(host.env), {"http://" + target + "/"});
    EXPECT_EQ(ok.exit_code, 0) << describe(ok);
    EXPECT_EQ(ok.out, "through the alias\n");
    EXPECT_TRUE(image::host_network_status(long_state).running);
  }

  image::stop_host_network(long_state);
  EXPECT_FALSE(fs::exists(*host.proxy_socket));
  EXPECT_TRUE(fs::is_directory(host.socket_dir)) << "the container's mount source stays while it may run";
  image::remove_host_network_socket_dir(long_state);
  EXPECT_TRUE(fs::is_empty(tmp));
}

// The host side's directories are its own: a symlink planted for the socket directory is
// refused, and nothing is created where it points.
TEST_F(ImageHostNetwork, APlantedSocketDirectorySymlinkIsRefused) {
  fs::path elsewhere = dir_ / "elsewhere";
  fs::create_directory(elsewhere);
  fs::create_directory(state_ / "host-network");
  fs::permissions(state_ / "host-network", fs::perms::owner_all, fs::perm_options::replace);
  fs::create_directory_symlink(elsewhere, state_ / "host-network" / "sockets");
  try {
    image::start_host_network(spec(network_config(NetworkPolicy::isolated)));
    ADD_FAILURE() << "the host side served through a planted symlink";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("symlink"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(elsewhere));
  EXPECT_FALSE(image::host_network_status(state_).running);
  EXPECT_FALSE(fs::exists(state_ / "host-network" / "control.sock"));
}

// The network service dying (killed, crashed) ends its host side, which says why in its log;
// the next status reports it, with those last words.
TEST_F(ImageHostNetwork, AServiceThatDiesIsReportedByTheNextStatus) {
  auto host = image::start_host_network(spec(network_config(NetworkPolicy::isolated)));
  auto record = read_file_if_exists(state_ / "host-network" / "host.json");
  ASSERT_TRUE(record.has_value());
  const pid_t service = nlohmann::json::parse(*record).at("service_pid").get<pid_t>();
  ASSERT_EQ(::kill(service, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] { return !process_exists(host.pid); })) << "the host side outlived its service";
  auto status = image::host_network_status(state_);
  EXPECT_FALSE(status.running);
  EXPECT_TRUE(status.stale);
  EXPECT_NE(status.detail.find("network service ended"), std::string::npos) << status.detail;
  EXPECT_FALSE(fs::exists(*host.proxy_socket)) << "a dead host side's socket was left for the relay";
  image::stop_host_network(state_);
  EXPECT_FALSE(image::host_network_status(state_).stale);
}
