// The network mechanism below the engine: proxy listeners created inside a fresh network
// namespace and served from outside, what a namespace with only loopback can reach, and pasta
// for the `full` policy. Uses a parked user+network namespace (support/net_netns.hpp).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "engine/native/fd_passing.hpp"
#include "net/pasta.hpp"
#include "net/proxy_listener.hpp"
#include "support/net_netns.hpp"
#include "support/required_feature.hpp"
#include "support/net_proxy_harness.hpp"
#include "support/net_upstream.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

using namespace cc;
using namespace cc::test;
using config::NetworkPolicy;

namespace {

// Receives the listeners the way the supervisor does: the production fd passing
// (engine/native/fd_passing.hpp), one report with the descriptors attached.
std::vector<UniqueFd> receive_listeners(int sock) {
  engine::native::ChildReport report;
  int fds[2] = {-1, -1};
  int count = 0;
  std::vector<UniqueFd> out;
  ssize_t n = engine::native::receive_report_with_fds(sock, &report, fds, &count);
  for (int i = 0; i < count; ++i) out.emplace_back(fds[i]);
  if (n != static_cast<ssize_t>(sizeof report) || report.tag != 'R') out.clear();
  return out;
}

// Through the proxy at address:3128, a CONNECT to `target`; 0 when the echo came back.
int tunnel_probe(const std::string& proxy_address, const std::string& target) {
  UniqueFd fd = connect_tcp(proxy_address, net::kProxyPort);
  if (!fd) return 10;
  if (!send_all(fd.get(), "CONNECT " + target + " HTTP/1.1\r\n\r\n")) return 11;
  if (status_of(read_head(fd.get())) != 200) return 12;
  send_all(fd.get(), "inside");
  ::shutdown(fd.get(), SHUT_WR);
  return read_until_close(fd.get()) == "inside" ? 0 : 13;
}

}  // namespace

TEST(NetNamespace, ProxyListenersInAFreshNamespace) {
  NetnsChild ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  int rc = ns.run_inside([] {
    int fds[2];
    const char* what = "unset";
    if (net::create_proxy_listeners(net::kProxyPort, fds, &what) != 0) return 1;
    if (what != nullptr || fds[0] < 0 || fds[1] < 0) return 2;
    sockaddr_in a4{};
    socklen_t l4 = sizeof a4;
    ::getsockname(fds[0], reinterpret_cast<sockaddr*>(&a4), &l4);
    if (a4.sin_family != AF_INET || ntohs(a4.sin_port) != net::kProxyPort || a4.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
      return 3;
    sockaddr_in6 a6{};
    socklen_t l6 = sizeof a6;
    ::getsockname(fds[1], reinterpret_cast<sockaddr*>(&a6), &l6);
    if (a6.sin6_family != AF_INET6 || ntohs(a6.sin6_port) != net::kProxyPort ||
        std::memcmp(&a6.sin6_addr, &in6addr_loopback, sizeof a6.sin6_addr) != 0)
      return 4;
    for (int fd : fds) {
      if (!(::fcntl(fd, F_GETFL) & O_NONBLOCK) || !(::fcntl(fd, F_GETFD) & FD_CLOEXEC)) return 5;
    }
    // A second call finds the port taken and says so, without throwing.
    int again[2];
    const char* why = nullptr;
    if (net::create_proxy_listeners(net::kProxyPort, again, &why) != EADDRINUSE || why == nullptr) return 6;
    if (again[0] != -1 || again[1] != -1) return 7;
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(NetNamespace, HandedOverListenersServeTheSandboxFromTheHost) {
  NetnsChild ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());

  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  int rc = ns.run_inside([&] {
    int fds[2];
    const char* what = nullptr;
    if (net::create_proxy_listeners(net::kProxyPort, fds, &what) != 0) return 1;
    engine::native::ChildReport ready;
    ready.tag = 'R';
    return engine::native::send_report_with_fds(theirs.get(), ready, fds, 2) == 0 ? 0 : 2;
  });
  ASSERT_EQ(rc, 0);
  auto listeners = receive_listeners(ours.get());
  ASSERT_EQ(listeners.size(), 2u);

  ProxyHarness proxy(network_config(NetworkPolicy::isolated, {target}), {}, {}, std::move(listeners));
  EXPECT_EQ(ns.run_inside([&] { return tunnel_probe("127.0.0.1", target); }), 0);
  EXPECT_EQ(ns.run_inside([&] { return tunnel_probe("::1", target); }), 0);
  // The same host service, dialed directly from inside, is not there: the namespace's own
  // loopback has nothing on that port.
  EXPECT_EQ(ns.run_inside([&] { return tcp_connect_errno("127.0.0.1", upstream.port()); }), ECONNREFUSED);
  // A denied host through the listeners gets the 403 with the way to allow it.
  int denied = ns.run_inside([] {
    UniqueFd fd = connect_tcp("127.0.0.1", net::kProxyPort);
    send_all(fd.get(), "CONNECT blocked.example.org:443 HTTP/1.1\r\n\r\n");
    std::string reply = read_until_close(fd.get());
    return status_of(reply) == 403 && reply.find("claude-container allow blocked.example.org") != std::string::npos ? 0 : 1;
  });
  EXPECT_EQ(denied, 0);
  EXPECT_EQ(proxy.proxy().stats().denied, 1u);
  EXPECT_EQ(proxy.proxy().stats().allowed, 2u);
}

TEST(NetNamespace, LoopbackOnlyNamespaceReachesNothing) {
  NetnsChild ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  EXPECT_EQ(ns.run_inside([] { return tcp_connect_errno("192.0.2.1", 80); }), ENETUNREACH);
  EXPECT_EQ(ns.run_inside([] { return tcp_connect_errno("2001:db8::1", 80); }), ENETUNREACH);
  EXPECT_EQ(ns.run_inside([] { return tcp_connect_errno("169.254.169.254", 80); }), ENETUNREACH);
  int udp = ns.run_inside([] {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    inet_pton(AF_INET, "192.0.2.53", &a.sin_addr);
    return ::sendto(s, "q", 1, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 ? errno : 0;
  });
  EXPECT_EQ(udp, ENETUNREACH);
  int dns = ns.run_inside([] {
    addrinfo* list = nullptr;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    int rc = ::getaddrinfo("resolver-test.example.org", "443", &hints, &list);
    if (list) ::freeaddrinfo(list);
    return rc == 0 ? 0 : 1;
  });
  EXPECT_EQ(dns, 1) << "a name resolved inside a namespace without a network";
}

TEST(NetPasta, FullPolicyNamespaceCannotReachTheHostsLoopbackAndPastaQuitsWithIt) {
  auto pasta = net::find_pasta();
  CC_SKIP_UNLESS_FEATURE(pasta.has_value(), "pasta") << "pasta (passt) is not installed";
  NetnsChild ns;
  ASSERT_TRUE(ns.ok()) << ns.error();
  LoopbackServer host_loopback_service(echo_handler());
  LoopbackServer host_any_service(echo_handler(), false, true);
  LoopbackServer host_loopback6_service(echo_handler(), true);

  pid_t pasta_pid = net::attach_pasta(*pasta, ns.pid());
  ASSERT_GT(pasta_pid, 0);
  EXPECT_EQ(::kill(pasta_pid, 0), 0);

  // pasta configured an interface with an address and a default route.
  int configured = ns.run_inside([] {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return 2;
    int found = 1;
    for (ifaddrs* i = list; i; i = i->ifa_next)
      if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && std::strcmp(i->ifa_name, "lo") != 0) found = 0;
    ::freeifaddrs(list);
    return found;
  });
  EXPECT_EQ(configured, 0) << "pasta did not configure the namespace's network";
  // ...and a default route out. Checked in the routing table, not by dialing: tests send no
  // traffic beyond loopback, and pasta would turn a dial into a real connection from the host.
  int default_route = ns.run_inside([] {
    FILE* f = std::fopen("/proc/net/route", "r");
    if (!f) return 2;
    char line[256];
    int found = 1;
    while (std::fgets(line, sizeof line, f)) {
      char iface[64];
      unsigned dest = 1;
      if (std::sscanf(line, "%63s %x", iface, &dest) == 2 && dest == 0) found = 0;
    }
    std::fclose(f);
    return found;
  });
  EXPECT_EQ(default_route, 0) << "no default route out of the namespace";

  // The host's loopback services stay out of reach, by every way in.
  std::uint16_t p4 = host_loopback_service.port(), p6 = host_loopback6_service.port(), pany = host_any_service.port();
  EXPECT_EQ(ns.run_inside([&] { return tcp_connect_errno("127.0.0.1", p4); }), ECONNREFUSED);
  EXPECT_EQ(ns.run_inside([&] { return tcp_connect_errno("::1", p6); }), ECONNREFUSED);
  EXPECT_EQ(ns.run_inside([&] { return tcp_connect_errno("127.0.0.1", pany); }), ECONNREFUSED);
  // The gateway address is not mapped to the host's loopback: pasta runs with --no-map-gw.
  // (Dialing the gateway to prove it would send a real packet to this machine's gateway.)
  std::string pasta_cmdline;
  {
    std::ifstream cmdline("/proc/" + std::to_string(pasta_pid) + "/cmdline", std::ios::binary);
    pasta_cmdline.assign(std::istreambuf_iterator<char>(cmdline), {});
  }
  std::replace(pasta_cmdline.begin(), pasta_cmdline.end(), '\0', ' ');
  EXPECT_NE(pasta_cmdline.find(" --no-map-gw "), std::string::npos) << pasta_cmdline;
  EXPECT_EQ(host_any_service.accepted() + host_loopback_service.accepted() + host_loopback6_service.accepted(), 0);

  // pasta goes when the sandbox goes.
  ns.terminate();
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(pasta_pid, 0) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "pasta " << pasta_pid << " outlived its namespace";
}

TEST(NetPasta, AttachToAMissingProcessFailsWithAnExplanation) {
  auto pasta = net::find_pasta();
  CC_SKIP_UNLESS_FEATURE(pasta.has_value(), "pasta") << "pasta (passt) is not installed";
  pid_t gone = ::fork();
  if (gone == 0) _exit(0);
  ::waitpid(gone, nullptr, 0);
  try {
    net::attach_pasta(*pasta, gone);
    FAIL() << "attached to a process that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pasta"), std::string::npos) << e.what();
  }
}

// As root, pasta must not keep the host's root where it can run as the container root's host
// ids. This machine's /dev/net/tun may be root's alone: the test gives itself (in a mount
// namespace of its own) a device node open to everyone, as most distributions ship it, and a
// sandbox-like user namespace whose root is a subordinate id.
TEST(NetPasta, AsRootRunsAsTheSandboxRootsHostIds) {
  auto pasta = net::find_pasta();
  CC_SKIP_UNLESS_FEATURE(pasta.has_value(), "pasta") << "pasta (passt) is not installed";
  if (::geteuid() != 0) GTEST_SKIP() << "rootless pasta runs as the invoking user anyway";
  TempDir dir("cc-pasta-tun");
  const auto node = dir / "tun";
  ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << std::strerror(errno);  // this test's process only
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  ASSERT_EQ(::mknod(node.c_str(), S_IFCHR | 0666, makedev(10, 200)), 0) << std::strerror(errno);
  ASSERT_EQ(::chmod(node.c_str(), 0666), 0);
  ASSERT_EQ(::mount(node.c_str(), "/dev/net/tun", nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
  ASSERT_TRUE(net::tun_open_to_everyone());

  constexpr unsigned kHostRoot = 231072;  // the sandbox's root on the host
  int ready[2], release[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
  pid_t sandbox = ::fork();
  if (sandbox == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    char c = ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0 ? 'y' : 'n';
    [[maybe_unused]] auto w = ::write(ready[1], &c, 1);
    [[maybe_unused]] auto r = ::read(release[0], &c, 1);  // parked until the test ends
    _exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  UniqueFd release_fd(release[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');
  const std::string proc = "/proc/" + std::to_string(sandbox) + "/";
  const std::string map = "0 " + std::to_string(kHostRoot) + " 65536\n";
  { std::ofstream(proc + "uid_map") << map; }
  { std::ofstream(proc + "gid_map") << map; }

  pid_t pasta_pid = net::attach_pasta(*pasta, sandbox);
  std::string uids, gids;
  {
    std::ifstream status("/proc/" + std::to_string(pasta_pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0) uids = line;
      if (line.rfind("Gid:", 0) == 0) gids = line;
    }
  }
  const std::string ids = std::to_string(kHostRoot);
  EXPECT_EQ(uids, "Uid:\t" + ids + "\t" + ids + "\t" + ids + "\t" + ids);
  EXPECT_EQ(gids, "Gid:\t" + ids + "\t" + ids + "\t" + ids + "\t" + ids);
  release_fd.reset();
  ::waitpid(sandbox, nullptr, 0);
  for (int i = 0; i < 500 && ::kill(pasta_pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(::kill(pasta_pid, 0), 0) << "pasta outlived its namespace";
}
