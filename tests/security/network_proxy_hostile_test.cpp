// Hostile clients against the egress proxy: garbage, oversized heads, slowloris, half-open
// connections, resets and connection floods must never crash or stall it. Each test ends by
// checking that an ordinary allowed request is still served.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <future>
#include <random>
#include <thread>

#include "support/net_proxy_harness.hpp"
#include "support/net_upstream.hpp"

using namespace cc;
using namespace cc::test;
using config::NetworkPolicy;

namespace {

std::string connect_request(const std::string& authority) {
  return "CONNECT " + authority + " HTTP/1.1\r\n\r\n";
}

// An allowed CONNECT round trip through the proxy works.
void expect_serving(const ProxyHarness& proxy, const std::string& target) {
  UniqueFd fd = proxy.connect();
  ASSERT_TRUE(fd) << "the proxy no longer accepts";
  ASSERT_TRUE(send_all(fd.get(), connect_request(target)));
  std::string head = read_head(fd.get(), 5000);
  ASSERT_EQ(status_of(head), 200) << "the proxy no longer serves: " << head;
  send_all(fd.get(), "alive");
  ::shutdown(fd.get(), SHUT_WR);
  EXPECT_EQ(read_until_close(fd.get(), 5000), "alive");
}

}  // namespace

TEST(ProxyHostile, GarbageFloodGets400AndProxyKeepsServing) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}));
  std::mt19937 rng(7);
  std::vector<std::string> payloads = {
      std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11),  // a TLS ClientHello sent to a proxy
      "GET / HTTP/1.1\r\n\r\n",
      "CONNECT :443 HTTP/1.1\r\n\r\n",
      "CONNECT [::1 HTTP/1.1\r\n\r\n",
      "GET http://a.example/ HTTP/9.9\r\n\r\n",
      "\r\n\r\n",
      std::string("GET http://a.example/ HTTP/1.1\r\nX: \0\r\n\r\n", 38),
      "POST http://a.example/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
  };
  for (int i = 0; i < 200; ++i) {
    std::string payload;
    if (i < static_cast<int>(payloads.size())) {
      payload = payloads[i];
    } else {
      payload.resize(1 + rng() % 2000);
      for (auto& c : payload) c = static_cast<char>(rng());
      payload += "\r\n\r\n";
    }
    std::string reply = proxy.exchange(payload, 5000);
    int status = status_of(reply);
    EXPECT_TRUE(status == 400 || status == 431 || status == 501 || status == 403) << i << ": " << reply;
  }
  expect_serving(proxy, target);
  EXPECT_EQ(proxy.proxy().stats().allowed, 1u);
}

TEST(ProxyHostile, HugeHeadsGet431) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  net::ProxyLimits limits;
  limits.max_header_bytes = 4096;
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}), limits);
  std::string unterminated = "GET http://a.example/ HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'x');
  EXPECT_EQ(status_of(proxy.exchange(unterminated)), 431);
  std::string many = "GET http://a.example/ HTTP/1.1\r\n";
  for (int i = 0; i < 500; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(status_of(proxy.exchange(many + "\r\n")), 431);
  expect_serving(proxy, target);
}

TEST(ProxyHostile, SlowlorisClosedAtHeaderDeadlineWhileOthersAreServed) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  net::ProxyLimits limits;
  limits.header_timeout_seconds = 1;
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}), limits);
  std::vector<UniqueFd> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(proxy.connect());
    ASSERT_TRUE(slow.back());
    send_all(slow.back().get(), "CONNECT ");  // and never the rest
  }
  expect_serving(proxy, target);  // served while all fifty dawdle
  for (auto& fd : slow) {
    std::string reply = read_until_close(fd.get(), 10000);
    EXPECT_EQ(status_of(reply), 408) << reply;
  }
  expect_serving(proxy, target);
}

TEST(ProxyHostile, HalfOpenConnectionsAtTheLimitMakeRoomForANewClient) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  net::ProxyLimits limits;
  limits.max_connections = 20;
  limits.header_timeout_seconds = 1;
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}), limits);
  std::vector<UniqueFd> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(proxy.connect());  // connect, send nothing
  // Wait (bounded) until the proxy has accepted them all.
  for (int i = 0; i < 200 && proxy.proxy().stats().active_connections < 20; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(proxy.proxy().stats().active_connections, 20u);
  // At the connection limit the newcomer is served and the head that waited longest goes.
  expect_serving(proxy, target);
  EXPECT_EQ(status_of(read_until_close(idle.front().get(), 5000)), 503);
  EXPECT_GE(proxy.proxy().stats().evicted_heads, 1u);
  for (auto& fd : idle) EXPECT_TRUE(closed_by_peer(fd.get(), 10000));
  idle.clear();
  for (int i = 0; i < 500 && proxy.proxy().stats().active_connections > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  expect_serving(proxy, target);
}

TEST(ProxyHostile, ConnectionsBeyondTheLimitThatAreNotHeadsGet503) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  net::ProxyLimits limits;
  limits.max_connections = 4;
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}), limits);
  std::vector<UniqueFd> tunnels;
  for (int i = 0; i < 4; ++i) {
    tunnels.push_back(proxy.connect());
    send_all(tunnels.back().get(), connect_request(target));
    ASSERT_EQ(status_of(read_head(tunnels.back().get(), 5000)), 200);
  }
  // Established tunnels are never evicted for a newcomer.
  EXPECT_EQ(status_of(proxy.exchange(connect_request(target))), 503);
  tunnels.clear();
  for (int i = 0; i < 500 && proxy.proxy().stats().active_connections > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  expect_serving(proxy, target);
}

// Slow clients hold request heads open, from another address and from the good client's own;
// the good client's CONNECT is still answered at once, long before the header deadline.
TEST(ProxyHostile, SlowHeadsFromOneClientCannotStarveAnother) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  net::ProxyLimits limits;
  limits.max_connections = 16;
  limits.max_pending_heads = 8;
  limits.max_pending_heads_per_peer = 4;
  limits.header_timeout_seconds = 60;  // the deadline is not what saves the good client
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}), limits);
  auto slow_from = [&](const char* source) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(proxy.port());
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
      return UniqueFd();
    send_all(fd.get(), "CONNECT ");  // and never the rest
    return fd;
  };
  std::vector<UniqueFd> slow;
  for (int i = 0; i < 30; ++i) {
    slow.push_back(slow_from("127.0.0.2"));
    ASSERT_TRUE(slow.back()) << "cannot connect from 127.0.0.2";
  }
  expect_serving(proxy, target);
  for (int i = 0; i < 30; ++i) {
    slow.push_back(slow_from("127.0.0.1"));
    ASSERT_TRUE(slow.back());
  }
  expect_serving(proxy, target);
  EXPECT_GE(proxy.proxy().stats().evicted_heads, 40u);
  EXPECT_LE(proxy.proxy().stats().active_connections, 16u);
}

// A loop of identical refused requests is one audit line plus one with the count, not a line
// per attempt (the file lives in a small tmpfs).
TEST(ProxyHostile, DenialLoopIsAggregatedInTheAudit) {
  ProxyHarness proxy(network_config(NetworkPolicy::none));
  for (int i = 0; i < 300; ++i) ASSERT_EQ(status_of(proxy.exchange(connect_request("denied.example:443"))), 403);
  EXPECT_EQ(proxy.proxy().stats().denied, 300u);
  auto records = proxy.audit_records(1);
  ASSERT_EQ(records.size(), 1u) << "repeats within the window are counted, not written";
  EXPECT_EQ(records[0]["decision"], "denied");
  EXPECT_FALSE(records[0].contains("count"));
}

TEST(ProxyHostile, IdleTunnelIsClosed) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  net::ProxyLimits limits;
  limits.idle_timeout_seconds = 1;
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}), limits);
  UniqueFd fd = proxy.connect();
  send_all(fd.get(), connect_request(target));
  ASSERT_EQ(status_of(read_head(fd.get())), 200);
  EXPECT_TRUE(closed_by_peer(fd.get(), 10000));
  auto records = proxy.audit_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["error"], "idle timeout");
}

TEST(ProxyHostile, ResetsMidTunnelAndMidHeadLeaveNoConnectionsBehind) {
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {target}));
  for (int i = 0; i < 50; ++i) {
    UniqueFd fd = proxy.connect();
    if (i % 2 == 0) {
      send_all(fd.get(), connect_request(target));
      ASSERT_EQ(status_of(read_head(fd.get())), 200);
      send_all(fd.get(), std::string(100000, 'z'));
    } else {
      send_all(fd.get(), "GET http://a.exam");
    }
    linger l{1, 0};  // close with a reset
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  for (int i = 0; i < 500 && proxy.proxy().stats().active_connections > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(proxy.proxy().stats().active_connections, 0u);
  expect_serving(proxy, target);
}

TEST(ProxyHostile, ConnectTimeoutIs504) {
  net::ProxyLimits limits;
  limits.connect_timeout_seconds = 1;
  auto release = std::make_shared<std::promise<void>>();
  auto released = release->get_future().share();
  net::ResolveFunction stuck = [released](const std::string& host, std::uint16_t port) {
    net::ResolveResult r;
    if (host != "stuck.example.org") {
      r.endpoints.push_back(net::numeric_endpoint(host, port));
      return r;
    }
    released.wait_for(std::chrono::seconds(10));  // a DNS server that never answers
    r.endpoints.push_back(net::numeric_endpoint("192.0.2.1", port));
    return r;
  };
  LoopbackServer upstream(echo_handler());
  std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  ProxyHarness proxy(network_config(NetworkPolicy::none, {"stuck.example.org", target}), limits, stuck);
  std::string reply = proxy.exchange(connect_request("stuck.example.org:443"), 10000);
  EXPECT_EQ(status_of(reply), 504) << reply;
  release->set_value();
  expect_serving(proxy, target);
}
