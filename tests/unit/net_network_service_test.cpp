// The network service as its callers use it: the built binary re-executed with the internal
// verb, confined, serving the proxy and the gateway on listeners handed over (TCP and unix),
// answering statistics and live policy changes on its channel, and ending with its caller.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "net/audit_log.hpp"
#include "net/network_service.hpp"
#include "support/net_proxy_harness.hpp"
#include "support/net_upstream.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

using namespace cc;
using namespace cc::test;
using config::NetworkPolicy;

namespace {

struct Launched {
  TempDir dir{"cc-net-service"};
  std::uint16_t port = 0;
  std::filesystem::path audit;
  net::NetworkService service;
};

net::NetworkServiceSpec spec_for(const config::Network& network, const std::filesystem::path& audit) {
  net::NetworkServiceSpec spec;
  spec.network = network;
  spec.audit_log = audit;
  spec.executable = CC_BINARY;
  return spec;
}

std::filesystem::path audit_in(const TempDir& dir) {
  std::filesystem::create_directories(dir / "audit");
  return dir / "audit" / "network.jsonl";
}

int connect_status(std::uint16_t port, const std::string& target, std::string* reply = nullptr) {
  UniqueFd fd = connect_tcp("127.0.0.1", port);
  if (!fd) return -1;
  send_all(fd.get(), "CONNECT " + target + " HTTP/1.1\r\n\r\n");
  std::string head = read_head(fd.get(), 10000);
  if (reply) *reply = head + read_until_close(fd.get(), 2000);
  return status_of(head);
}

}  // namespace

TEST(NetworkService, TunnelsAllowedConnectAndAuditsFromItsOwnProcess) {
  LoopbackServer upstream(echo_handler());
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  TempDir dir("cc-net-service");
  auto audit = audit_in(dir);
  std::uint16_t port = 0;
  auto spec = spec_for(network_config(NetworkPolicy::none, {target}), audit);
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "service proxy"));
  auto service = net::NetworkService::launch(std::move(spec));
  ASSERT_GT(service.pid(), 0);
  EXPECT_NE(service.pid(), ::getpid());

  UniqueFd fd = connect_tcp("127.0.0.1", port);
  ASSERT_TRUE(fd);
  send_all(fd.get(), "CONNECT " + target + " HTTP/1.1\r\n\r\n");
  ASSERT_EQ(status_of(read_head(fd.get(), 10000)), 200);
  send_all(fd.get(), "through the service");
  ::shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(read_until_close(fd.get(), 5000), "through the service");
  fd.reset();

  EXPECT_EQ(connect_status(port, "127.0.0.1:1"), 403);  // not allowed
  auto records = audit_records_in(audit, 2, 10000);
  ASSERT_GE(records.size(), 2u);
  auto stats = service.stats();
  EXPECT_EQ(stats.allowed, 1u);
  EXPECT_EQ(stats.denied, 1u);
}

TEST(NetworkService, ResolvesNamesFromHostsFileAfterConfinement) {
  // localhost comes from /etc/hosts, read by the confined process; its loopback address is
  // then refused, which shows the name was resolved rather than failing to resolve.
  TempDir dir("cc-net-service");
  std::uint16_t port = 0;
  auto spec = spec_for(network_config(NetworkPolicy::none, {"localhost:9"}), audit_in(dir));
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "service proxy"));
  auto service = net::NetworkService::launch(std::move(spec));
  std::string reply;
  EXPECT_EQ(connect_status(port, "localhost:9", &reply), 403) << reply;
  EXPECT_NE(reply.find("(loopback)"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("cannot resolve"), std::string::npos) << reply;
}

TEST(NetworkService, LivePolicyChangesReachTheService) {
  LoopbackServer upstream(echo_handler());
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  TempDir dir("cc-net-service");
  std::uint16_t port = 0;
  auto spec = spec_for(network_config(NetworkPolicy::none), audit_in(dir));
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "service proxy"));
  auto service = net::NetworkService::launch(std::move(spec));
  EXPECT_EQ(connect_status(port, target), 403);
  service.set_network(network_config(NetworkPolicy::none, {target}));
  EXPECT_EQ(connect_status(port, target), 200);
  EXPECT_THROW(service.set_network(network_config(NetworkPolicy::none, {"*.com"})), Error);
  EXPECT_EQ(connect_status(port, target), 200) << "a refused change left the policy as it was";
  service.set_network(network_config(NetworkPolicy::none, {}, {target}));
  EXPECT_EQ(connect_status(port, target), 403);
}

TEST(NetworkService, ServesUnixListenersForImageEngines) {
  LoopbackServer upstream(echo_handler());
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  TempDir dir("cc-net-service");
  const auto socket_path = dir / "proxy.sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.string().size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, socket_path.c_str());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 16), 0);
  auto spec = spec_for(network_config(NetworkPolicy::none, {target}), audit_in(dir));
  spec.proxy_listeners.push_back(std::move(listener));
  auto service = net::NetworkService::launch(std::move(spec));

  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  send_all(client.get(), "CONNECT " + target + " HTTP/1.1\r\n\r\n");
  ASSERT_EQ(status_of(read_head(client.get(), 10000)), 200);
  send_all(client.get(), "over unix");
  ::shutdown(client.get(), SHUT_WR);
  EXPECT_EQ(read_until_close(client.get(), 5000), "over unix");
}

TEST(NetworkService, RefusedRulesFailTheLaunchWithTheReason) {
  TempDir dir("cc-net-service");
  std::uint16_t port = 0;
  auto spec = spec_for(network_config(NetworkPolicy::none, {"exa*mple.com"}), audit_in(dir));
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "service proxy"));
  try {
    net::NetworkService::launch(std::move(spec));
    FAIL() << "launch accepted an invalid rule";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exa*mple.com"), std::string::npos) << e.what();
  }
}

// The gateway's trust store loads after the caller was answered (the CLI checked the CA file
// before): a CA without a certificate ends the service, with status 1, before it serves.
TEST(NetworkService, AGatewayItCannotBuildEndsTheService) {
  TempDir dir("cc-net-service");
  auto bad = spec_for(network_config(NetworkPolicy::none), audit_in(dir));
  std::uint16_t gport = 0;
  bad.gateway_listeners.push_back(listen_on_loopback(&gport, "service gateway"));
  bad.gateway = net::NetworkServiceGateway{"https://127.0.0.1:1", "not a certificate", {net::CredentialKind::api_key, "k"}};
  auto service = net::NetworkService::launch(std::move(bad));
  pollfd p{service.pidfd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 20000), 1) << "the service kept running without its gateway";
  siginfo_t info{};
  ASSERT_EQ(::waitid(static_cast<idtype_t>(3) /* P_PIDFD */, static_cast<id_t>(service.pidfd()), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 1);
}

TEST(NetworkService, EndsWhenStoppedOrWhenItsCallerGoes) {
  TempDir dir("cc-net-service");
  std::uint16_t port = 0;
  auto spec = spec_for(network_config(NetworkPolicy::none), audit_in(dir));
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "service proxy"));
  auto service = net::NetworkService::launch(std::move(spec));
  int pidfd = ::dup(service.pidfd());
  service.stop();
  pollfd p{pidfd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1) << "the service still runs after stop()";
  ::close(pidfd);
  // Its listeners went with it: connections are refused, not left hanging.
  EXPECT_FALSE(connect_tcp("127.0.0.1", port));
}

TEST(NetworkService, RotatesTheAuditLogFromItsConfinedProcess) {
  LoopbackServer upstream(echo_handler());
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  TempDir dir("cc-net-service");
  auto audit = audit_in(dir);
  {
    // Just below the bound: the next records make the service rotate.
    std::ofstream fill(audit);
    std::string line(1023, 'x');
    for (std::uint64_t i = 0; i < net::kMaxAuditLogBytes / 1024; ++i) fill << line << '\n';
  }
  std::uint16_t port = 0;
  auto spec = spec_for(network_config(NetworkPolicy::none, {target}), audit);
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "service proxy"));
  auto service = net::NetworkService::launch(std::move(spec));
  EXPECT_EQ(connect_status(port, target), 200);
  const std::filesystem::path older = audit.string() + ".1";
  for (int i = 0; i < 500 && !std::filesystem::exists(older); ++i)  // the record comes as the tunnel closes
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto records = audit_records_in(audit, 1, 10000);
  ASSERT_EQ(records.size(), 1u) << "the rotated file starts with the new record only";
  EXPECT_EQ(std::filesystem::file_size(older), net::kMaxAuditLogBytes);
}

// Serving and stopping use only what the seccomp filter allows (a missing syscall kills the
// service with SIGSYS): after traffic that starts the resolver's threads and the gateway's, a
// SIGTERM ends it with status 0. Under the sanitizer build this covers their runtimes too.
TEST(NetworkService, ExitsCleanlyAfterServingUnderItsFilter) {
  LoopbackServer upstream(echo_handler());
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  TempDir dir("cc-net-service");
  std::uint16_t port = 0;
  auto spec = spec_for(network_config(NetworkPolicy::none, {target, "localhost:9"}), audit_in(dir));
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "service proxy"));
  std::uint16_t gateway_port = 0;
  spec.gateway_listeners.push_back(listen_on_loopback(&gateway_port, "service gateway"));
  spec.gateway = net::NetworkServiceGateway{"https://127.0.0.1:1", "", {net::CredentialKind::api_key, "test-key"}};
  auto service = net::NetworkService::launch(std::move(spec));
  EXPECT_EQ(connect_status(port, target), 200);
  std::string reply;  // localhost resolves (to an address the allow list names): refused by the port
  EXPECT_GT(connect_status(port, "localhost:9", &reply), 0);
  EXPECT_EQ(reply.find("cannot resolve"), std::string::npos) << reply;
  {
    UniqueFd fd = connect_tcp("127.0.0.1", gateway_port);
    ASSERT_TRUE(fd);
    send_all(fd.get(), "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_GT(status_of(read_until_close(fd.get(), 20000)), 0);  // answered on a gateway thread
  }
  (void)service.stats();
  ASSERT_EQ(::syscall(SYS_pidfd_send_signal, service.pidfd(), SIGTERM, nullptr, 0), 0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(static_cast<idtype_t>(3) /* P_PIDFD */, static_cast<id_t>(service.pidfd()), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_EXITED) << "killed by signal " << info.si_status << " (31: SIGSYS, the filter)";
  EXPECT_EQ(info.si_status, 0);
}
