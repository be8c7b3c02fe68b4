// The egress proxy in the host namespace against upstream servers the tests start on loopback.
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <random>

#include <arpa/inet.h>

#include "net/audit_log.hpp"
#include "net/domain_policy.hpp"
#include "support/net_proxy_harness.hpp"
#include "support/net_upstream.hpp"
#include "support/required_feature.hpp"

using namespace cc;
using namespace cc::test;
using config::NetworkPolicy;

namespace {

std::string connect_request(const std::string& authority) {
  return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
}

// Opens a tunnel; returns the fd positioned after the proxy's 200 head, or an invalid fd with
// the response in *response.
UniqueFd open_tunnel(const ProxyHarness& proxy, const std::string& authority, std::string* response) {
  UniqueFd fd = proxy.connect();
  if (!fd) return fd;
  send_all(fd.get(), connect_request(authority));
  *response = read_head(fd.get());
  if (status_of(*response) != 200) {
    *response += read_until_close(fd.get(), 3000);
    return UniqueFd();
  }
  return fd;
}

std::string body_of(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

}  // namespace

TEST(ProxyConnect, TunnelToLiteralAddressEntry) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}));
  std::string response;
  UniqueFd fd = open_tunnel(proxy, target, &response);
  ASSERT_TRUE(fd) << response;
  EXPECT_EQ(response, "HTTP/1.1 200 Connection established\r\n\r\n");
  ASSERT_TRUE(send_all(fd.get(), "ping"));
  ::shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(read_until_close(fd.get()), "ping");
  auto records = proxy.audit_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["decision"], "allowed");
  EXPECT_EQ(records[0]["host"], "127.0.0.1");
  EXPECT_EQ(records[0]["port"], upstream.port());
  EXPECT_EQ(records[0]["rule"], "allow:" + target);
  EXPECT_EQ(records[0]["method"], "CONNECT");
  EXPECT_EQ(records[0]["bytes_out"], 4);
  EXPECT_EQ(records[0]["bytes_in"], 4);
  EXPECT_EQ(records[0]["error"], "");
  EXPECT_EQ(proxy.proxy().stats().allowed, 1u);
  EXPECT_EQ(proxy.proxy().stats().denied, 0u);
}

TEST(ProxyConnect, ClientBytesSentWithTheConnectHeadAreForwarded) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}));
  UniqueFd fd = proxy.connect();
  ASSERT_TRUE(send_all(fd.get(), connect_request(target) + "early"));
  ::shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(read_until_close(fd.get()), "HTTP/1.1 200 Connection established\r\n\r\nearly");
}

TEST(ProxyConnect, HttpsThroughTunnelWithVerifiedName) {
  TestCa ca({"upstream.test"});
  LoopbackServer upstream(https_handler(ca, "secret-over-tls"));
  // The fake name resolves to loopback, so the literal address must be allowed too.
  ProxyHarness proxy(network_config(NetworkPolicy::isolated, {"upstream.test", "127.0.0.1"}), {},
                     fake_resolver({{"upstream.test", {"127.0.0.1"}}}));
  std::string response;
  UniqueFd fd = open_tunnel(proxy, "upstream.test:" + std::to_string(upstream.port()), &response);
  ASSERT_TRUE(fd) << response;
  std::string error;
  std::string reply = https_get(fd.get(), ca, "upstream.test", &error);
  EXPECT_EQ(status_of(reply), 200) << error;
  EXPECT_EQ(body_of(reply), "secret-over-tls");
  fd.reset();  // the tunnel's record is written when it closes
  auto records = proxy.audit_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["host"], "upstream.test");
  EXPECT_EQ(records[0]["rule"], "allow:upstream.test");
  EXPECT_GT(records[0]["bytes_in"].get<int>(), 100);
}

TEST(ProxyConnect, IPv6Upstream) {
  LoopbackServer upstream(echo_handler(), true);
  std::string target = "[::1]:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}));
  std::string response;
  UniqueFd fd = open_tunnel(proxy, target, &response);
  ASSERT_TRUE(fd) << response;
  send_all(fd.get(), "six");
  ::shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(read_until_close(fd.get()), "six");
  EXPECT_EQ(proxy.audit_records(1).at(0)["host"], "::1");
}

TEST(ProxyConnect, BulkBinaryDataIntactBothWays) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}));
  std::string response;
  UniqueFd fd = open_tunnel(proxy, target, &response);
  ASSERT_TRUE(fd) << response;
  std::string data(24 << 20, '\0');
  std::mt19937_64 rng(42);
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    auto v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  auto sender = std::async(std::launch::async, [&] {
    bool ok = send_all(fd.get(), data, 60000);
    ::shutdown(fd.get(), SHUT_WR);
    return ok;
  });
  std::string echoed = read_until_close(fd.get(), 60000, data.size() + 1);
  EXPECT_TRUE(sender.get());
  ASSERT_EQ(echoed.size(), data.size());
  EXPECT_TRUE(echoed == data) << "tunnelled bytes differ";
  auto records = proxy.audit_records(1);
  EXPECT_EQ(records.at(0)["bytes_out"], data.size());
  EXPECT_EQ(records.at(0)["bytes_in"], data.size());
}

TEST(ProxyHttp, AbsoluteUriForwardedInOriginForm) {
  auto recorder = std::make_shared<HttpRecorder>();
  LoopbackServer upstream(http_handler("plain-body", recorder));
  std::string authority = "upstream.test:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {"upstream.test", "127.0.0.1"}), {},
                     fake_resolver({{"upstream.test", {"127.0.0.1"}}}));
  std::string reply = proxy.exchange("GET http://" + authority + "/path?x=1 HTTP/1.1\r\nHost: " + authority +
                                     "\r\nProxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\n"
                                     "User-Agent: test\r\n\r\n");
  EXPECT_EQ(status_of(reply), 200) << reply;
  EXPECT_EQ(body_of(reply), "plain-body");
  std::lock_guard lock(recorder->mutex);
  ASSERT_EQ(recorder->heads.size(), 1u);
  const std::string& head = recorder->heads[0];
  EXPECT_EQ(head.rfind("GET /path?x=1 HTTP/1.1\r\nHost: " + authority + "\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("User-Agent: test\r\n"), std::string::npos);
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(head.find("Proxy-"), std::string::npos) << head;
  auto records = proxy.audit_records(1);
  EXPECT_EQ(records.at(0)["method"], "GET");
  EXPECT_EQ(records.at(0)["decision"], "allowed");
}

TEST(ProxyHttp, BodyForwardedExactlyAndPipelinedRequestDropped) {
  auto recorder = std::make_shared<HttpRecorder>();
  LoopbackServer upstream(http_handler("ok", recorder));
  std::string authority = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {authority}));
  std::string second = "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n";
  std::string reply = proxy.exchange("POST http://" + authority + "/upload HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + second);
  EXPECT_EQ(status_of(reply), 200) << reply;
  std::lock_guard lock(recorder->mutex);
  ASSERT_EQ(recorder->bodies.size(), 1u);
  EXPECT_EQ(recorder->bodies[0], "hello");
  EXPECT_EQ(recorder->heads[0].find("evil"), std::string::npos);
  EXPECT_EQ(upstream.accepted(), 1);
}

TEST(ProxyHttp, ChunkedBodyForwardedUpToItsEnd) {
  std::promise<std::string> received;
  auto future = received.get_future();
  LoopbackServer upstream([&received](int fd) {
    std::string all = read_until_close(fd, 1500);  // the proxy sends the body, then nothing more
    received.set_value(all);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  std::string authority = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {authority}));
  UniqueFd fd = proxy.connect();
  send_all(fd.get(), "POST http://" + authority + "/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
  send_all(fd.get(), "0\r\n\r\nGET http://evil.example/ HTTP/1.1\r\n\r\n");
  std::string upstream_saw = future.get();
  EXPECT_NE(upstream_saw.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(upstream_saw.substr(upstream_saw.find("\r\n\r\n") + 4), "3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(read_until_close(fd.get())), 200);
}

TEST(ProxyDeny, DeniedHostGets403WithHowToAllowAndAuditLine) {
  std::atomic<int> lookups{0};
  net::ResolveFunction counting = [&lookups](const std::string&, std::uint16_t) {
    ++lookups;
    return net::ResolveResult{{}, "no"};
  };
  ProxyHarness proxy(network_config(NetworkPolicy::isolated), {}, counting);
  std::string reply = proxy.exchange(connect_request("blocked.example.org:443"));
  EXPECT_EQ(status_of(reply), 403) << reply;
  EXPECT_NE(reply.find("X-Proxy-Error: blocked-by-policy"), std::string::npos);
  EXPECT_NE(reply.find("blocked.example.org:443"), std::string::npos);
  EXPECT_NE(reply.find("claude-container allow blocked.example.org"), std::string::npos) << reply;
  std::string plain = proxy.exchange("GET http://blocked.example.org/x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status_of(plain), 403);
  auto records = proxy.audit_records(2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["decision"], "denied");
  EXPECT_EQ(records[0]["rule"], "default-deny");
  EXPECT_EQ(records[0]["host"], "blocked.example.org");
  EXPECT_EQ(records[0]["port"], 443);
  EXPECT_EQ(records[1]["method"], "GET");
  EXPECT_EQ(records[1]["port"], 80);
  EXPECT_EQ(lookups.load(), 0) << "denied names must not even be resolved";
  EXPECT_EQ(proxy.proxy().stats().denied, 2u);
  EXPECT_EQ(net::count_denials(proxy.audit_path()), 2u);
}

TEST(ProxyDeny, ExplicitDenyEntryNamedInAudit) {
  ProxyHarness proxy(network_config(NetworkPolicy::full, {}, {"*.blocked.test"}), {},
                     fake_resolver({}));
  EXPECT_EQ(status_of(proxy.exchange(connect_request("a.blocked.test:443"))), 403);
  EXPECT_EQ(proxy.audit_records(1).at(0)["rule"], "deny:*.blocked.test");
}

TEST(ProxyDeny, NamesResolvingToNonPublicAddressesAreRefused) {
  LoopbackServer upstream(echo_handler());
  std::string port = std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {"*.proxy.test"}), {},
                     fake_resolver({{"loop.proxy.test", {"127.0.0.1"}},
                                    {"private.proxy.test", {"10.1.2.3"}},
                                    {"metadata.proxy.test", {"169.254.169.254"}},
                                    {"ula.proxy.test", {"fd00:ec2::254"}},
                                    {"mapped.proxy.test", {"::ffff:127.0.0.1"}}}));
  for (const char* name : {"loop.proxy.test", "private.proxy.test", "metadata.proxy.test", "ula.proxy.test",
                           "mapped.proxy.test"}) {
    std::string reply = proxy.exchange(connect_request(std::string(name) + ":" + port));
    EXPECT_EQ(status_of(reply), 403) << name << ": " << reply;
    EXPECT_NE(reply.find("does not dial"), std::string::npos) << reply;
  }
  EXPECT_EQ(upstream.accepted(), 0);
  auto records = proxy.audit_records(5);
  ASSERT_EQ(records.size(), 5u);
  for (const auto& r : records) {
    EXPECT_EQ(r["decision"], "denied");
    EXPECT_EQ(r["rule"], "blocked-address");
  }
  // A literal address the policy does not name is denied by the rules themselves.
  EXPECT_EQ(status_of(proxy.exchange(connect_request("127.0.0.1:" + port))), 403);
}

TEST(ProxyDeny, NamesResolvingToTheHostsOwnAddressesAreRefused) {
  // A service bound to 0.0.0.0 on the host must not be reachable through a public address of
  // the host either. Take any non-loopback IPv4 address of this machine.
  std::string own;
  ifaddrs* list = nullptr;
  ASSERT_EQ(::getifaddrs(&list), 0);
  for (ifaddrs* i = list; i && own.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) own = text;
  }
  ::freeifaddrs(list);
  CC_SKIP_UNLESS_FEATURE(!own.empty(), "non-loopback-ipv4") << "this machine has no non-loopback IPv4 address";
  LoopbackServer host_service(echo_handler(), false, true);
  std::string port = std::to_string(host_service.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {"self.proxy.test"}), {},
                     fake_resolver({{"self.proxy.test", {own}}}));
  std::string reply = proxy.exchange(connect_request("self.proxy.test:" + port));
  EXPECT_EQ(status_of(reply), 403) << reply;
  EXPECT_NE(reply.find(own + " ("), std::string::npos) << reply;
  EXPECT_EQ(host_service.accepted(), 0);
}

TEST(ProxyDeny, LiteralAddressEntryLetsANameThroughAndDenyByAddressStopsIt) {
  LoopbackServer upstream(echo_handler());
  std::string port = std::to_string(upstream.port());
  auto resolver = fake_resolver({{"alias.test", {"127.0.0.1"}}});
  {
    ProxyHarness proxy(network_config(NetworkPolicy::none, {"alias.test", "127.0.0.1"}), {}, resolver);
    std::string response;
    EXPECT_TRUE(open_tunnel(proxy, "alias.test:" + port, &response)) << response;
  }
  {
    ProxyHarness proxy(network_config(NetworkPolicy::none, {"alias.test", "127.0.0.1"}, {"127.0.0.1:" + port}), {},
                       resolver);
    std::string reply = proxy.exchange(connect_request("alias.test:" + port));
    EXPECT_EQ(status_of(reply), 403) << reply;
    EXPECT_EQ(proxy.audit_records(1).at(0)["rule"], "deny:127.0.0.1:" + port);
  }
}

TEST(ProxyPolicy, SetPolicyAppliesToTheNextRequest) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none));
  EXPECT_EQ(status_of(proxy.exchange(connect_request(target))), 403);
  proxy.proxy().set_policy(net::DomainPolicy::from_config(network_config(NetworkPolicy::none, {target})));
  std::string response;
  UniqueFd open = open_tunnel(proxy, target, &response);
  ASSERT_TRUE(open) << response;
  proxy.proxy().set_policy(net::DomainPolicy::from_config(network_config(NetworkPolicy::none, {}, {target})));
  std::string reply = proxy.exchange(connect_request(target));
  EXPECT_EQ(status_of(reply), 403);
  EXPECT_NE(reply.find("deny:" + target), std::string::npos);
  // The tunnel opened before the change keeps working: policies apply to new requests.
  send_all(open.get(), "still");
  ::shutdown(open.get(), SHUT_WR);
  EXPECT_EQ(read_until_close(open.get()), "still");
  EXPECT_EQ(proxy.proxy().stats().denied, 2u);
  EXPECT_EQ(proxy.proxy().stats().allowed, 1u);
}

TEST(ProxyErrors, UnresolvableNameIs502WithAuditedError) {
  ProxyHarness proxy(network_config(NetworkPolicy::none, {"ghost.test"}), {}, fake_resolver({}));
  std::string reply = proxy.exchange(connect_request("ghost.test:443"));
  EXPECT_EQ(status_of(reply), 502) << reply;
  auto r = proxy.audit_records(1).at(0);
  EXPECT_EQ(r["decision"], "allowed");
  EXPECT_NE(r["error"].get<std::string>().find("cannot resolve ghost.test"), std::string::npos) << r;
}

TEST(ProxyErrors, RefusedConnectionIs502) {
  std::uint16_t closed_port;
  {
    LoopbackServer gone(echo_handler());
    closed_port = gone.port();
  }
  std::string target = "127.0.0.1:" + std::to_string(closed_port);
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}));
  std::string reply = proxy.exchange(connect_request(target));
  EXPECT_EQ(status_of(reply), 502) << reply;
  EXPECT_NE(reply.find("Connection refused"), std::string::npos) << reply;
  EXPECT_NE(proxy.audit_records(1).at(0)["error"].get<std::string>().find("Connection refused"), std::string::npos);
}

TEST(ProxyErrors, SlowLookupDoesNotStallOtherRequests) {
  LoopbackServer upstream(echo_handler());
  std::string port = std::to_string(upstream.port());
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  net::ResolveFunction resolver = [&](const std::string& host, std::uint16_t p) {
    if (host == "slow.test") {
      std::unique_lock lock(m);
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    }
    net::ResolveResult r;
    r.endpoints.push_back(net::numeric_endpoint("127.0.0.1", p));
    return r;
  };
  ProxyHarness proxy(network_config(NetworkPolicy::none, {"slow.test", "fast.test", "127.0.0.1"}), {}, resolver);
  UniqueFd slow = proxy.connect();
  send_all(slow.get(), connect_request("slow.test:" + port));
  std::string response;
  UniqueFd fast = open_tunnel(proxy, "fast.test:" + port, &response);
  EXPECT_TRUE(fast) << response;
  EXPECT_EQ(read_until_close(slow.get(), 0), "") << "the slow lookup finished first?";
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(status_of(read_head(slow.get())), 200);
}
