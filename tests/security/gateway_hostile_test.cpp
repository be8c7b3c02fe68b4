// Hostile clients against the credential gateway: connections that hold its slots without
// finishing a request. Mechanism: at the connection limit the gateway ends the connection that
// has waited longest for a request head (the first one, or the next on a kept-alive
// connection), as the egress proxy does, so a new client always gets its turn. Without it a
// process in the sandbox holds every slot for the header timeout (slow heads) or the idle
// timeout (kept-alive connections left idle) and the agent cannot reach the API meanwhile.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "support/messages_stand_in.hpp"
#include "support/net_gateway_harness.hpp"
#include "support/net_upstream.hpp"

namespace cc::test {
namespace {

// Long enough that no slot frees by a timeout while the test runs.
constexpr int kLongTimeout = 600;
constexpr std::size_t kSlots = 4;

net::GatewayOptions options_for(const MessagesStandIn& api) {
  net::GatewayOptions o;
  o.upstream = "https://127.0.0.1:" + std::to_string(api.port());
  o.extra_ca_pem = api.ca_pem();
  o.credential.value = "sk-ant-api03-REAL-secret-value-0123456789abcdefABCDEF";
  o.limits.max_connections = kSlots;
  o.limits.header_timeout_seconds = kLongTimeout;
  o.limits.idle_timeout_seconds = kLongTimeout;
  return o;
}

std::string host_of(const GatewayHarness& gw) { return "127.0.0.1:" + std::to_string(gw.port()); }

int request_on(int fd, const GatewayHarness& gw) {
  if (!send_all(fd, messages_request(host_of(gw), "", false))) return 0;
  return read_response(fd, 20000).status;
}

// A request on a fresh connection, again while the gateway says 503: a connection's thread
// registers as waiting for a head just after it starts (or just after its last response).
int request_until_not_busy(const GatewayHarness& gw) {
  int status = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    UniqueFd fd = gw.connect();
    status = request_on(fd.get(), gw);
    if (status != 503) break;
    ::usleep(10000);
  }
  return status;
}

// Waits (bounded) until the gateway serves `count` connections, so the next one meets the limit.
void wait_for_active(GatewayHarness& gw, std::size_t count) {
  for (int i = 0; i < 1000 && gw.gateway().stats().active_connections < count; ++i) ::usleep(10000);
  ASSERT_EQ(gw.gateway().stats().active_connections, count);
}

TEST(GatewayHostile, SlowHeadsAtTheLimitMakeRoomForANewClient) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  std::vector<UniqueFd> slow;
  for (std::size_t i = 0; i < kSlots; ++i) {
    slow.push_back(gw.connect());
    ASSERT_TRUE(send_all(slow.back().get(), "POST /v1/messages HTTP/1.1\r\nHost: loc"));
    wait_for_active(gw, i + 1);
  }
  EXPECT_EQ(request_until_not_busy(gw), 200) << "the slow heads hold every slot of the gateway";
  // The one that waited longest (in the order their threads began to wait, which need not be
  // the order of connecting) was told so and closed; the others still wait.
  std::vector<pollfd> fds;
  for (const auto& fd : slow) fds.push_back({fd.get(), POLLIN, 0});
  ASSERT_EQ(::poll(fds.data(), fds.size(), 10000), 1);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (!fds[i].revents) continue;
    std::string evicted = read_until_close(slow[i].get(), 10000);
    EXPECT_EQ(evicted.rfind("HTTP/1.1 503", 0), 0u) << evicted;
  }
}

TEST(GatewayHostile, IdleKeptAliveConnectionsDoNotHoldEverySlot) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  std::vector<UniqueFd> idle;
  for (std::size_t i = 0; i < kSlots; ++i) {
    idle.push_back(gw.connect());
    ASSERT_EQ(request_on(idle.back().get(), gw), 200);  // then left open, idle
  }
  wait_for_active(gw, kSlots);
  EXPECT_EQ(request_until_not_busy(gw), 200) << "idle kept-alive connections hold every slot of the gateway";
  // The one idle longest was closed without a word (a response there would answer a request
  // its client may be sending just then); the others still serve their next request.
  std::vector<pollfd> fds;
  for (const auto& fd : idle) fds.push_back({fd.get(), POLLIN, 0});
  ASSERT_EQ(::poll(fds.data(), fds.size(), 10000), 1);
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents) EXPECT_EQ(read_until_close(idle[i].get(), 10000), "");
    else EXPECT_EQ(request_on(idle[i].get(), gw), 200);
  }
}

}  // namespace
}  // namespace cc::test
