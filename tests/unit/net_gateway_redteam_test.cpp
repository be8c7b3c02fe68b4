// Attacks on the credential gateway from a hostile process inside the sandbox: requests that
// would make an upstream echo the real credential back (TRACE), or climb out of the upstream's
// base path through a slash the gateway does not see as one. Each must be refused before a
// connection to the upstream is opened, so the credential never leaves.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "net/credential_gateway.hpp"
#include "support/messages_stand_in.hpp"
#include "support/net_gateway_harness.hpp"
#include "support/net_upstream.hpp"

using namespace cc;
using namespace cc::test;

namespace {

const std::string kRealKey = "sk-ant-api03-REAL-secret-value-0123456789abcdefABCDEF";

net::GatewayOptions options_for(const MessagesStandIn& api, const std::string& base) {
  net::GatewayOptions o;
  o.upstream = "https://127.0.0.1:" + std::to_string(api.port()) + base;
  o.extra_ca_pem = api.ca_pem();
  o.credential.kind = net::CredentialKind::api_key;
  o.credential.value = kRealKey;
  return o;
}

void expect_refused_before_upstream(const std::vector<std::pair<std::string, int>>& cases, const std::string& base) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api, base));
  for (const auto& [raw, status] : cases) {
    std::string response = gw.exchange(raw);
    EXPECT_EQ(status_of(response), status) << raw << "\n->\n" << response;
    EXPECT_EQ(response.find(kRealKey), std::string::npos) << response;
  }
  EXPECT_EQ(api.connections(), 0) << "the upstream was contacted (with the real key) for a refused request";
  for (const auto& r : api.requests()) ADD_FAILURE() << "reached the upstream: " << r.method << " " << r.target;
}

}  // namespace

// A server with TRACE enabled (Apache's default) answers with the request it received as the
// body: the x-api-key the gateway added would come back to the sandbox.
TEST(GatewayRedTeam, TraceAndNonApiMethodsNeverGoUp) {
  expect_refused_before_upstream(
      {
          {"TRACE /v1/messages HTTP/1.1\r\nHost: localhost\r\n\r\n", 405},
          {"TRACK /v1/messages HTTP/1.1\r\nHost: localhost\r\n\r\n", 405},
          {"trace /v1/messages HTTP/1.1\r\nHost: localhost\r\n\r\n", 405},
          {"head /v1/messages HTTP/1.1\r\nHost: localhost\r\n\r\n", 405},
          {"PROPFIND /v1/messages HTTP/1.1\r\nHost: localhost\r\n\r\n", 405},
      },
      "");
}

// credentials.upstream with a base path (a company relay at /relay/anthropic): these reach
// "/relay/admin" or further up on servers that decode %2F, treat '\' as '/', or drop ";params"
// before resolving dot segments.
TEST(GatewayRedTeam, EncodedSlashesBackslashesAndPathParametersCannotLeaveTheBasePath) {
  auto post = [](const std::string& target) {
    return "POST " + target + " HTTP/1.1\r\nHost: localhost\r\ncontent-length: 2\r\n\r\n{}";
  };
  expect_refused_before_upstream(
      {
          {post("/v1/..%2f..%2fadmin"), 400},
          {post("/v1/%2e%2e%2F%2e%2e%2Fadmin"), 400},
          {post("/v1/..\\..\\admin"), 400},
          {post("/v1/..%5c..%5cadmin"), 400},
          {post("/v1/..;/..;/admin"), 400},
          {post("/v1/%2e%2e;x=1/admin"), 400},
      },
      "/relay/anthropic");
}

// What Claude Code sends still goes up: the checks above refuse nothing it uses.
TEST(GatewayRedTeam, OrdinaryApiRequestsStillPass) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api, ""));
  UniqueFd fd = gw.connect();
  ASSERT_TRUE(fd);
  ASSERT_TRUE(send_all(fd.get(), messages_request("localhost", "", false, "/v1/messages?beta=true&x=a%2Fb")));
  auto response = read_response(fd.get());
  EXPECT_EQ(response.status, 200) << response.head;
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/v1/messages?beta=true&x=a%2Fb");
}

// Header injection and framing tricks: each could make the upstream read a second request (the
// smuggled one carrying no key, the next real one then becoming its body, which an echoing
// endpoint would return) or another header. The parser refuses them all before anything goes up.
TEST(GatewayRedTeam, HeaderInjectionAndConflictingFramingNeverGoUp) {
  const std::string head = "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\n";
  expect_refused_before_upstream(
      {
          {head + "X-A: a\r\n b\r\ncontent-length: 2\r\n\r\n{}", 400},                      // obs-fold
          {head + "X-A: a\rx-api-key: stolen\r\ncontent-length: 2\r\n\r\n{}", 400},        // bare CR
          {head + std::string("X-A: a\0b\r\ncontent-length: 2\r\n\r\n{}", 33), 400},       // NUL
          {head + "X A: a\r\ncontent-length: 2\r\n\r\n{}", 400},                             // space in a name
          {head + "Content-Length : 2\r\n\r\n{}", 400},                                      // space before colon
          {head + "Content-Length: +2\r\n\r\n{}", 400},
          {head + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400},
          {head + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 501},
          {head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
          {"POST /v1/messages\tHTTP/1.1\r\nHost: localhost\r\n\r\n", 400},
          {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},  // h2c with prior knowledge
      },
      "");
}

// A chunked body with extensions and trailers, then a second request pipelined behind it on the
// same connection: the upstream sees exactly two requests, the second with the gateway's own
// head (the real key once, the sandbox's placeholder nowhere), so no byte of the first body
// was taken for a request head.
TEST(GatewayRedTeam, PipelinedRequestAfterChunkExtensionsAndTrailersStaysItsOwnRequest) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api, ""));
  UniqueFd fd = gw.connect();
  ASSERT_TRUE(fd);
  const std::string json = R"({"model":"m","stream":false,"messages":[]})";
  std::string raw = "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
                    "x-api-key: sk-ant-api03-placeholder\r\n\r\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", json.size());
  raw += std::string(size) + ";name=\"v\\\"al\"\r\n" + json + "\r\n0;last\r\nX-Trailer: GET /smuggled HTTP/1.1\r\n\r\n";
  raw += messages_request("localhost", "x-api-key: sk-ant-api03-placeholder\r\nConnection: close\r\n", false);
  ASSERT_TRUE(send_all(fd.get(), raw));
  // Both responses may arrive in one read: take everything up to the close the second asked for.
  const std::string responses = read_until_close(fd.get(), 10000);
  std::size_t ok = 0;
  for (std::size_t at = 0; (at = responses.find("HTTP/1.1 200 ", at)) != std::string::npos; ++at) ++ok;
  EXPECT_EQ(ok, 2u) << responses;
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target.rfind("/v1/messages", 0), 0u) << r.target;
    EXPECT_EQ(r.header_count("x-api-key"), 1u);
    EXPECT_EQ(r.header("x-api-key"), kRealKey);
  }
  EXPECT_EQ(requests[0].body_start, json);
}
