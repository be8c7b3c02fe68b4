// The network policy from inside a running native sandbox, driven through the binary as root
// and as an unprivileged user. Escapes must fail for the right reason (errno, status codes);
// allowed traffic must pass through the proxy; `allow` must apply without a restart.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/engine_env.hpp"
#include "support/net_upstream.hpp"

namespace cc::test {
namespace {

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Python run inside: each probe prints "name=<errno>" (0 = the call succeeded).
const char* kProbes = R"PY(
import errno, socket, sys
def tcp(name, family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(addr); print(name + "=0")
    except socket.timeout:
        print(name + "=" + str(errno.ETIMEDOUT))
    except OSError as e:
        print(name + "=" + str(e.errno))
def udp(name, addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", addr)
        s.settimeout(2); s.recv(512); print(name + "=0")
    except socket.timeout:
        print(name + "=" + str(errno.ETIMEDOUT))
    except OSError as e:
        print(name + "=" + str(e.errno))
def raw(name):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except OSError as e:
        print(name + "_socket=" + str(e.errno)); return
    print(name + "_socket=0")
    try:
        s.sendto(b"\x08\x00\xf7\xff\x00\x00\x00\x00", ("192.0.2.1", 0)); print(name + "=0")
    except OSError as e:
        print(name + "=" + str(e.errno))
def dns(name, host):
    try:
        socket.getaddrinfo(host, 443); print(name + "=0")
    except socket.gaierror as e:
        print(name + "=gaierror")
def nameserver():
    try:
        for line in open("/etc/resolv.conf"):
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver" and ":" not in parts[1]:
                return parts[1]
    except OSError:
        pass
    return "192.0.2.53"
port = int(sys.argv[1])
tcp("tcp_public", socket.AF_INET, ("192.0.2.1", 80))
tcp("tcp_metadata", socket.AF_INET, ("169.254.169.254", 80))
tcp("tcp_v6", socket.AF_INET6, ("2001:db8::1", 80))
tcp("host_loopback", socket.AF_INET, ("127.0.0.1", port))
tcp("host_loopback_v6", socket.AF_INET6, ("::1", port))
udp("udp", ("192.0.2.1", 53))
udp("dns_server", (nameserver(), 53))
raw("raw")
dns("dns_lookup", "example.com")
)PY";

std::map<std::string, std::string> run_probes(const EngineEnv& env, unsigned host_port, CommandResult* raw) {
  *raw = env.exec({"python3", "-c", kProbes, std::to_string(host_port)});
  std::map<std::string, std::string> out;
  std::istringstream in(raw->out);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

std::string errno_text(int e) { return std::to_string(e); }

class NetworkSandboxTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  std::unique_ptr<EngineEnv> make(const std::string& policy) {
    return std::make_unique<EngineEnv>(GetParam(), "bind", policy);
  }
  void start(EngineEnv& env) {
    auto r = env.cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
};

TEST_P(NetworkSandboxTest, IsolatedBlocksEveryDirectPathForTheRightReason) {
  auto env = make("isolated");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  LoopbackServer host_service(echo_handler());
  start(*env);
  CC_SKIP_UNLESS_FEATURE(env->exec({"sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
      << "python3 is not installed in the container";
  CommandResult raw;
  auto p = run_probes(*env, host_service.port(), &raw);
  ASSERT_EQ(raw.exit_code, 0) << describe(raw);
  EXPECT_EQ(p["tcp_public"], errno_text(ENETUNREACH)) << raw.out;
  EXPECT_EQ(p["tcp_metadata"], errno_text(ENETUNREACH)) << raw.out;
  EXPECT_EQ(p["tcp_v6"], errno_text(ENETUNREACH)) << raw.out;
  // The host's loopback service is not in the sandbox's namespace: nothing listens there.
  EXPECT_EQ(p["host_loopback"], errno_text(ECONNREFUSED)) << raw.out;
  EXPECT_EQ(p["host_loopback_v6"], errno_text(ECONNREFUSED)) << raw.out;
  EXPECT_EQ(p["udp"], errno_text(ENETUNREACH)) << raw.out;
  // Whatever /etc/resolv.conf names, it cannot be reached, so no lookup works.
  EXPECT_EQ(p["dns_server"], errno_text(ENETUNREACH)) << raw.out;
  EXPECT_EQ(p["dns_lookup"], "gaierror") << raw.out;
  // Raw sockets: refused outright, or created but with nowhere to send.
  if (p["raw_socket"] == "0") EXPECT_EQ(p["raw"], errno_text(ENETUNREACH)) << raw.out;
  else EXPECT_TRUE(p["raw_socket"] == errno_text(EPERM) || p["raw_socket"] == errno_text(EACCES)) << raw.out;
  EXPECT_EQ(host_service.accepted(), 0);
}

TEST_P(NetworkSandboxTest, AllowedHostPassesThroughTheProxyAndAllowIsLive) {
  auto env = make("isolated");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  TestCa ca({"127.0.0.1"});
  LoopbackServer https(https_handler(ca, "hello-from-https"));
  auto recorder = std::make_shared<HttpRecorder>();
  LoopbackServer http(http_handler("hello-from-http", recorder));
  env->write_project_file("test-ca.pem", ca.ca_pem());
  std::string https_target = "127.0.0.1:" + std::to_string(https.port());
  std::string http_url = "http://127.0.0.1:" + std::to_string(http.port()) + "/via-proxy";
  auto allowed = env->cli({"allow", https_target});
  ASSERT_EQ(allowed.exit_code, 0) << describe(allowed);
  start(*env);
  CC_SKIP_UNLESS_FEATURE(env->exec({"sh", "-c", "command -v curl"}).exit_code == 0, "container-curl")
      << "curl is not installed in the container";

  // curl skips proxies for 127.0.0.1 (NO_PROXY); --noproxy '' makes it use HTTPS_PROXY anyway,
  // exactly as it would for a name.
  auto tls = env->exec({"curl", "-sS", "--max-time", "10", "--noproxy", "", "--cacert", "test-ca.pem",
                        "https://" + https_target + "/"});
  EXPECT_EQ(tls.exit_code, 0) << describe(tls);
  EXPECT_EQ(tls.out, "hello-from-https");

  // Plain HTTP to a host not allowed yet: 403 naming the host and the command.
  auto denied = env->exec({"curl", "-sS", "--max-time", "10", "--noproxy", "", "-w", "\n%{http_code}", http_url});
  EXPECT_NE(denied.out.find("claude-container allow 127.0.0.1"), std::string::npos) << describe(denied);
  EXPECT_NE(denied.out.find("\n403"), std::string::npos) << describe(denied);

  auto before = nlohmann::json::parse(env->cli({"--json", "status"}).out, nullptr, false);
  auto allow = env->cli({"allow", "127.0.0.1:" + std::to_string(http.port())});
  ASSERT_EQ(allow.exit_code, 0) << describe(allow);
  auto ok = env->exec({"curl", "-sS", "--max-time", "10", "--noproxy", "", http_url});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(ok.out, "hello-from-http");
  {
    std::lock_guard lock(recorder->mutex);
    ASSERT_EQ(recorder->heads.size(), 1u);
    EXPECT_EQ(recorder->heads[0].rfind("GET /via-proxy HTTP/1.1\r\n", 0), 0u) << recorder->heads[0];
  }
  auto after = nlohmann::json::parse(env->cli({"--json", "status"}).out, nullptr, false);
  if (!before.is_discarded() && !after.is_discarded() && before.contains("supervisor_pid")) {
    EXPECT_EQ(before["supervisor_pid"], after["supervisor_pid"]) << "allow restarted the container";
  }

  auto logs = env->cli({"logs", "--network"});
  EXPECT_EQ(logs.exit_code, 0) << describe(logs);
  EXPECT_NE(logs.out.find("ALLOW CONNECT " + https_target), std::string::npos) << logs.out;
  EXPECT_NE(logs.out.find("DENY  GET     127.0.0.1:" + std::to_string(http.port())), std::string::npos) << logs.out;
  EXPECT_NE(logs.out.find("ALLOW GET     127.0.0.1:" + std::to_string(http.port())), std::string::npos) << logs.out;
}

TEST_P(NetworkSandboxTest, DeniedHostIsCountedInStatus) {
  auto env = make("isolated");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  start(*env);
  // bash's /dev/tcp speaks to the proxy without any client tool.
  auto r = env->exec({"bash", "-c",
                      "exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT blocked.example.org:443 HTTP/1.1\\r\\n\\r\\n' >&3; "
                      "head -c 12 <&3"});
  EXPECT_EQ(r.out, "HTTP/1.1 403") << describe(r);
  auto status = env->cli({"status"});
  EXPECT_NE(status.out.find("1 connection(s) refused"), std::string::npos) << status.out;
}

// A service on the host's loopback stays unreachable whatever the policy (in `full` through
// pasta's separate namespace).
class HostLoopbackTest : public ::testing::TestWithParam<std::tuple<EngineUser, std::string>> {};

TEST_P(HostLoopbackTest, HostLoopbackServiceIsUnreachable) {
  auto [user, policy] = GetParam();
  EngineEnv env(user, "bind", policy);
  CC_SKIP_UNLESS_FEATURE(env.usable(), env.feature()) << env.why_unusable();
  // "pasta" is the root engine's pasta; rootless pasta also needs /dev/net/tun open to everyone,
  // which many hosts (this one included) do not allow, so it is a feature of its own.
  const char* pasta_feature = user == EngineUser::root ? "pasta" : "rootless-pasta";
  if (policy == "full" && user == EngineUser::unprivileged) {
    struct stat st {};
    CC_SKIP_UNLESS_FEATURE(::stat("/dev/net/tun", &st) == 0 && (st.st_mode & 0006) == 0006, pasta_feature)
        << "/dev/net/tun is not open to unprivileged users here, so rootless pasta cannot run";
  }
  LoopbackServer host_service(echo_handler());
  LoopbackServer host_service6(echo_handler(), true);
  auto r = env.cli({"start"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto status = env.cli({"--json", "status"});
  // A `full` policy that fell back to the host network must not pass as a skip where pasta is
  // required.
  if (policy == "full") {
    auto realised_by = nlohmann::json::parse(status.out, nullptr, false)["network"]["realised_by"];
    CC_SKIP_UNLESS_FEATURE(realised_by == "pasta", pasta_feature)
        << "full runs on the host network here (no pasta): " << status.out;
  }
  CC_SKIP_UNLESS_FEATURE(env.exec({"sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
      << "python3 is not installed in the container";
  auto probe = env.exec({"python3", "-c",
                         "import socket,sys\n"
                         "for fam,addr in ((socket.AF_INET,('127.0.0.1',int(sys.argv[1]))),"
                         "(socket.AF_INET6,('::1',int(sys.argv[2])))):\n"
                         "  s=socket.socket(fam); s.settimeout(3)\n"
                         "  try:\n    s.connect(addr); print(0)\n"
                         "  except OSError as e:\n    print(e.errno)\n",
                         std::to_string(host_service.port()), std::to_string(host_service6.port())});
  EXPECT_EQ(probe.out, errno_text(ECONNREFUSED) + "\n" + errno_text(ECONNREFUSED) + "\n") << describe(probe);
  EXPECT_EQ(host_service.accepted() + host_service6.accepted(), 0);

  if (policy == "isolated" || policy == "development") {
    // The same service once allowed by address: reachable, but only through the proxy.
    std::string target = "127.0.0.1:" + std::to_string(host_service.port());
    auto allow = env.cli({"allow", target});
    ASSERT_EQ(allow.exit_code, 0) << describe(allow);
    auto tunnel = env.exec({"bash", "-c",
                            "exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT " + target +
                                " HTTP/1.1\\r\\n\\r\\n' >&3; read -r status <&3; read -r blank <&3; "
                                "echo \"$status\"; printf ping >&3; head -c 4 <&3"});
    EXPECT_EQ(tunnel.out, "HTTP/1.1 200 Connection established\r\nping") << describe(tunnel);
    EXPECT_EQ(host_service.accepted(), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Users, NetworkSandboxTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });
INSTANTIATE_TEST_SUITE_P(
    Policies, HostLoopbackTest,
    ::testing::Combine(::testing::Values(EngineUser::root, EngineUser::unprivileged),
                       ::testing::Values("none", "isolated", "development", "full")),
    [](const auto& info) { return to_string(std::get<0>(info.param)) + "_" + std::get<1>(info.param); });

}  // namespace
}  // namespace cc::test
