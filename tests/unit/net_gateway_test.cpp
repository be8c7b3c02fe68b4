// The credential gateway against the Messages API stand-in over TLS on loopback: the credential
// swap, the fixed upstream, certificate checks, streaming, keep-alive, concurrency, hostile
// requests and the audit records.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <future>
#include <sstream>
#include <thread>

#include "net/audit_log.hpp"
#include "net/credential_gateway.hpp"
#include "support/messages_stand_in.hpp"
#include "support/net_gateway_harness.hpp"
#include "support/net_upstream.hpp"
#include "util/error.hpp"

using namespace cc;
using namespace cc::test;

namespace {

const std::string kRealKey = "sk-ant-api03-REAL-secret-value-0123456789abcdefABCDEF";
const std::string kRealToken = "sk-ant-oat01-REAL-oauth-token-0123456789abcdefABCDEF";
const std::string kPlaceholder = "sk-ant-api03-placeholder-000000000000000000000000000";

net::GatewayOptions options_for(const MessagesStandIn& api, net::CredentialKind kind = net::CredentialKind::api_key,
                                const std::string& base = "") {
  net::GatewayOptions o;
  o.upstream = "https://127.0.0.1:" + std::to_string(api.port()) + base;
  o.extra_ca_pem = api.ca_pem();
  o.credential.kind = kind;
  o.credential.value = kind == net::CredentialKind::api_key ? kRealKey : kRealToken;
  return o;
}

std::string host_of(const GatewayHarness& gw) { return "127.0.0.1:" + std::to_string(gw.port()); }

// One request on a fresh connection; the response read by its framing.
HttpResponse request_once(const GatewayHarness& gw, const std::string& raw, int timeout_ms = 10000) {
  UniqueFd fd = gw.connect();
  EXPECT_TRUE(fd);
  if (!fd) return {};
  EXPECT_TRUE(send_all(fd.get(), raw));
  return read_response(fd.get(), timeout_ms);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string all_headers(const StandInRequest& r) {
  std::string out = r.method + " " + r.target + "\n";
  for (const auto& [n, v] : r.headers) out += n + ": " + v + "\n";
  return out;
}

}  // namespace

TEST(GatewayCredential, ApiKeyReplacesEveryCredentialHeaderFromTheSandbox) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  auto response = request_once(gw, messages_request("localhost:" + std::to_string(gw.port()),
                                                    "x-api-key: " + kPlaceholder + "\r\nAuthorization: Bearer " +
                                                        kPlaceholder + "\r\nCookie: session=" + kPlaceholder +
                                                        "\r\nProxy-Authorization: Basic " + kPlaceholder + "\r\n",
                                                    false));
  ASSERT_EQ(response.status, 200) << response.head << response.body;
  EXPECT_TRUE(contains(response.body, "Hello from the stand-in.")) << response.body;
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& seen = requests[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/v1/messages?beta=true");
  EXPECT_EQ(seen.header("x-api-key"), kRealKey);
  EXPECT_EQ(seen.header_count("x-api-key"), 1u);
  EXPECT_EQ(seen.header_count("authorization"), 0u);
  EXPECT_EQ(seen.header_count("cookie"), 0u);
  EXPECT_EQ(seen.header_count("proxy-authorization"), 0u);
  EXPECT_EQ(seen.header("host"), "127.0.0.1:" + std::to_string(api.port()));
  EXPECT_EQ(seen.header("anthropic-version"), "2023-06-01");
  EXPECT_FALSE(contains(all_headers(seen), kPlaceholder)) << all_headers(seen);
  EXPECT_FALSE(contains(response.head + response.body, kRealKey));
}

TEST(GatewayCredential, OauthTokenGoesAsBearerWithTheOauthBeta) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api, net::CredentialKind::oauth_token));
  auto first = request_once(gw, messages_request(host_of(gw),
                                                 "x-api-key: " + kPlaceholder +
                                                     "\r\nanthropic-beta: claude-code-20250219, "
                                                     "interleaved-thinking-2025-05-14\r\n",
                                                 true));
  ASSERT_EQ(first.status, 200) << first.head;
  auto second = request_once(gw, messages_request(host_of(gw), "Authorization: Bearer " + kPlaceholder + "\r\n", false));
  ASSERT_EQ(second.status, 200) << second.head;
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("authorization"), "Bearer " + kRealToken);
  EXPECT_EQ(requests[0].header_count("x-api-key"), 0u);
  EXPECT_EQ(requests[0].header_count("anthropic-beta"), 1u);
  EXPECT_EQ(requests[0].header("anthropic-beta"), "claude-code-20250219,interleaved-thinking-2025-05-14,oauth-2025-04-20");
  EXPECT_EQ(requests[1].header("authorization"), "Bearer " + kRealToken);
  EXPECT_EQ(requests[1].header_count("authorization"), 1u);
  EXPECT_EQ(requests[1].header("anthropic-beta"), "oauth-2025-04-20");
  for (const auto& r : requests) EXPECT_FALSE(contains(all_headers(r), kPlaceholder)) << all_headers(r);
}

TEST(GatewayCredential, UpstreamBasePathIsPrefixed) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api, net::CredentialKind::api_key, "/relay/anthropic/"));
  auto response = request_once(gw, messages_request(host_of(gw), "", false));
  EXPECT_EQ(response.status, 404);  // the stand-in serves /v1/messages only: the prefix went up
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/relay/anthropic/v1/messages?beta=true");
}

TEST(GatewayFixedUpstream, AbsoluteUrisConnectAndForeignHostsAreRefusedBeforeAnythingGoesUp) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  const std::string body = "{}";
  struct Case {
    std::string raw;
    int status;
  };
  std::vector<Case> cases = {
      {"POST https://evil.example/v1/messages HTTP/1.1\r\nHost: evil.example\r\ncontent-length: 2\r\n\r\n{}", 400},
      {"POST http://127.0.0.1:" + std::to_string(api.port()) + "/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400},
      {"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n", 405},
      {"POST /v1/messages HTTP/1.1\r\nHost: evil.example\r\ncontent-length: 2\r\n\r\n{}", 421},
      {"POST /v1/messages HTTP/1.1\r\nHost: 10.0.0.1:443\r\ncontent-length: 2\r\n\r\n{}", 421},
      {"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\ncontent-length: 2\r\n\r\n{}", 400},
      {"POST /v1/messages HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}", 400},
      {"POST /v1/../../admin HTTP/1.1\r\nHost: localhost\r\ncontent-length: 2\r\n\r\n{}", 400},
      {"POST /v1/%2E%2e/admin HTTP/1.1\r\nHost: localhost\r\ncontent-length: 2\r\n\r\n{}", 400},
      {"GET /v1/messages HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 400},
      {"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    std::string response = gw.exchange(c.raw);
    EXPECT_EQ(status_of(response), c.status) << c.raw << "\n->\n" << response;
    EXPECT_TRUE(contains(response, "Connection: close")) << response;
  }
  EXPECT_EQ(api.connections(), 0) << "the stand-in was contacted for a refused request";
  EXPECT_TRUE(api.requests().empty());
  auto records = gw.audit_records(cases.size());
  EXPECT_EQ(records.size(), cases.size());
  EXPECT_EQ(gw.gateway().stats().failed, cases.size());
}

TEST(GatewayFixedUpstream, UpstreamNameInHostIsAccepted) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  auto response = request_once(gw, messages_request("127.0.0.1", "", false));
  EXPECT_EQ(response.status, 200) << response.head;
}

TEST(GatewayTls, UntrustedCertificateIsRefusedAndTheKeyNeverSent) {
  MessagesStandIn api(StandInCert::untrusted_ca);
  api.start();
  GatewayHarness gw(options_for(api));
  auto response = request_once(gw, messages_request(host_of(gw), "x-api-key: " + kPlaceholder + "\r\n", true));
  EXPECT_EQ(response.status, 502) << response.head << response.body;
  EXPECT_TRUE(contains(response.body, "the gateway refused upstream 127.0.0.1:" + std::to_string(api.port()) +
                                          ": certificate verify failed"))
      << response.body;
  EXPECT_TRUE(contains(response.body, "credentials.ca_file")) << response.body;
  EXPECT_FALSE(contains(response.body, kRealKey));
  EXPECT_EQ(api.handshakes(), 0);
  EXPECT_TRUE(api.requests().empty());
  auto records = gw.audit_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["status"], 502);
  EXPECT_TRUE(contains(records[0]["error"].get<std::string>(), "certificate verify failed"));
  EXPECT_FALSE(contains(gw.audit_text(), kRealKey));
}

TEST(GatewayTls, CertificateForAnotherNameIsRefused) {
  MessagesStandIn api(StandInCert::wrong_name);
  api.start();
  for (std::string host : {"127.0.0.1", "localhost"}) {
    auto options = options_for(api);
    options.upstream = "https://" + host + ":" + std::to_string(api.port());
    GatewayHarness gw(std::move(options));
    auto response = request_once(gw, messages_request(host_of(gw), "", false));
    EXPECT_EQ(response.status, 502) << host << ": " << response.body;
    EXPECT_TRUE(contains(response.body, "certificate verify failed")) << response.body;
    EXPECT_TRUE(contains(response.body, "mismatch")) << response.body;
  }
  EXPECT_EQ(api.handshakes(), 0);
  EXPECT_TRUE(api.requests().empty());
}

TEST(GatewayTls, ServerLimitedToTls11IsRefused) {
  MessagesStandIn api(StandInCert::tls11_only);
  api.start();
  GatewayHarness gw(options_for(api));
  auto response = request_once(gw, messages_request(host_of(gw), "", false));
  EXPECT_EQ(response.status, 502) << response.body;
  EXPECT_TRUE(contains(response.body, "TLS 1.2")) << response.body;
  EXPECT_EQ(api.handshakes(), 0);
  EXPECT_TRUE(api.requests().empty());
}

TEST(GatewayTls, SystemStoreAloneDoesNotTrustTheTestCa) {
  MessagesStandIn api;
  api.start();
  auto options = options_for(api);
  options.extra_ca_pem.clear();
  GatewayHarness gw(std::move(options));
  auto response = request_once(gw, messages_request(host_of(gw), "", false));
  EXPECT_EQ(response.status, 502) << response.body;
  EXPECT_TRUE(api.requests().empty());
}

TEST(GatewayConfig, BadUpstreamOrCaBundleIsAUsageError) {
  for (std::string upstream : {"http://api.example.com", "https://user@api.example.com", "https://",
                               "https://api.example.com:0", "https://api.example.com/v1?x=1", "ftp://x"}) {
    net::GatewayOptions o;
    o.upstream = upstream;
    o.credential.value = kRealKey;
    try {
      net::CredentialGateway gw(std::move(o));
      ADD_FAILURE() << upstream << " was accepted";
    } catch (const cc::Error& e) {
      EXPECT_EQ(e.code(), cc::ExitCode::usage) << upstream;
      EXPECT_TRUE(contains(e.what(), "credentials.upstream")) << e.what();
    }
  }
  net::GatewayOptions o;
  o.upstream = "https://api.example.com";
  o.extra_ca_pem = "not a certificate\n";
  o.credential.value = kRealKey;
  try {
    net::CredentialGateway gw(std::move(o));
    ADD_FAILURE() << "a CA bundle without certificates was accepted";
  } catch (const cc::Error& e) {
    EXPECT_EQ(e.code(), cc::ExitCode::usage);
    EXPECT_TRUE(contains(e.what(), "credentials.ca_file")) << e.what();
  }
  net::GatewayOptions bad_key;
  bad_key.upstream = "https://api.example.com";
  bad_key.credential.value = "sk-ant-api03-x\r\nx-evil: 1";
  EXPECT_THROW(net::CredentialGateway{std::move(bad_key)}, cc::Error);
}

TEST(GatewayStream, EventsArriveBeforeTheStreamEnds) {
  MessagesStandIn api;
  api.set_reply("one two three");
  api.hold_streams(true);  // the stand-in sends message_start, then waits for release_streams()
  api.start();
  GatewayHarness gw(options_for(api));
  UniqueFd fd = gw.connect();
  ASSERT_TRUE(send_all(fd.get(), messages_request(host_of(gw), "", true)));
  std::string so_far;
  bool released = false;
  std::string at_release;
  auto response = read_response(fd.get(), 20000, [&](const std::string& piece) {
    so_far += piece;
    if (!released && contains(so_far, "event: message_start")) {
      at_release = so_far;
      released = true;
      api.release_streams();
    }
    return true;
  });
  ASSERT_TRUE(released) << "message_start never arrived on its own: " << so_far;
  EXPECT_FALSE(contains(at_release, "content_block_delta")) << at_release;
  EXPECT_FALSE(contains(at_release, "message_stop")) << at_release;
  ASSERT_EQ(response.status, 200) << response.head;
  EXPECT_EQ(response.header("content-type"), "text/event-stream; charset=utf-8");
  for (const char* event : {"content_block_start", "content_block_delta", "content_block_stop", "message_delta",
                            "message_stop"})
    EXPECT_TRUE(contains(response.body, std::string("event: ") + event)) << response.body;
  EXPECT_TRUE(contains(response.body, R"("text":" three")")) << response.body;
  EXPECT_TRUE(contains(response.body, R"("stop_reason":"end_turn")")) << response.body;
  EXPECT_FALSE(response.closed);
}

TEST(GatewayStream, HundredMiBRequestBodyStreamsUp) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  UniqueFd fd = gw.connect();
  constexpr std::uint64_t kSize = 100ull << 20;
  std::string head = "POST /v1/messages HTTP/1.1\r\nHost: " + host_of(gw) +
                     "\r\ncontent-type: application/octet-stream\r\ncontent-length: " + std::to_string(kSize) +
                     "\r\n\r\n";
  ASSERT_TRUE(send_all(fd.get(), head));
  std::string block(1 << 20, 'x');
  for (std::uint64_t sent = 0; sent < kSize; sent += block.size()) ASSERT_TRUE(send_all(fd.get(), block, 60000));
  auto response = read_response(fd.get(), 60000);
  EXPECT_EQ(response.status, 200) << response.head;
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body_bytes, kSize);
  auto records = gw.audit_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_GT(records[0]["bytes_out"].get<std::uint64_t>(), kSize);
}

TEST(GatewayStream, ChunkedRequestBodyIsRelayedAsFramed) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  UniqueFd fd = gw.connect();
  std::string json = R"({"model":"m","stream":false,"messages":[]})";
  std::ostringstream raw;
  raw << "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
  raw << std::hex << 10 << "\r\n" << json.substr(0, 10) << "\r\n" << (json.size() - 10) << "\r\n" << json.substr(10)
      << "\r\n0\r\n\r\n";
  ASSERT_TRUE(send_all(fd.get(), raw.str()));
  auto response = read_response(fd.get());
  EXPECT_EQ(response.status, 200) << response.head;
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body_start, json);
  EXPECT_EQ(requests[0].header("transfer-encoding"), "chunked");
  // The same connection goes on: the chunked body ended where its last chunk said.
  ASSERT_TRUE(send_all(fd.get(), messages_request("localhost", "", false)));
  EXPECT_EQ(read_response(fd.get()).status, 200);
}

TEST(GatewayKeepAlive, TwoRequestsOnOneConnectionReuseOneUpstreamConnection) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  UniqueFd fd = gw.connect();
  ASSERT_TRUE(send_all(fd.get(), messages_request(host_of(gw), "", true)));
  auto first = read_response(fd.get());
  ASSERT_EQ(first.status, 200);
  EXPECT_FALSE(first.closed);
  ASSERT_TRUE(send_all(fd.get(), messages_request(host_of(gw), "", false)));
  auto second = read_response(fd.get());
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(api.requests().size(), 2u);
  EXPECT_EQ(api.connections(), 1);
  // Connection: close from the client ends it after the response.
  ASSERT_TRUE(send_all(fd.get(), messages_request(host_of(gw), "Connection: close\r\n", false)));
  auto third = read_response(fd.get());
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.header("connection"), "close");
  EXPECT_TRUE(closed_by_peer(fd.get(), 5000));
}

TEST(GatewayConcurrency, ThirtyTwoStreamsAtOnce) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  constexpr int kClients = 32;
  std::vector<std::future<HttpResponse>> results;
  for (int i = 0; i < kClients; ++i)
    results.push_back(std::async(std::launch::async, [&gw] {
      UniqueFd fd = gw.connect();
      if (!fd || !send_all(fd.get(), messages_request(host_of(gw), "", true))) return HttpResponse{};
      return read_response(fd.get(), 30000);
    }));
  int ok = 0;
  for (auto& r : results) {
    HttpResponse response = r.get();
    if (response.status == 200 && contains(response.body, "event: message_stop")) ++ok;
  }
  EXPECT_EQ(ok, kClients);
  EXPECT_EQ(api.requests().size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(gw.audit_records(kClients).size(), static_cast<std::size_t>(kClients));
}

TEST(GatewayHostile, MalformedOversizedAndBadChunkedGet4xxAndTheGatewayKeepsServing) {
  MessagesStandIn api;
  api.start();
  net::GatewayOptions options = options_for(api);
  options.limits.max_header_bytes = 4096;
  GatewayHarness gw(std::move(options));
  struct Case {
    std::string raw;
    int status;
  };
  std::vector<Case> cases = {
      {std::string("\x16\x03\x01\x02\x00\x01\x00", 7), 400},  // the start of a TLS ClientHello
      {"GET / HTTP/1.1\r\nHost: localhost\r\nX: a\x01" "b\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", 400},
      {"GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n", 431},
      {"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400},
      {"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       400},
  };
  for (const auto& c : cases) {
    std::string response = gw.exchange(c.raw);
    EXPECT_EQ(status_of(response), c.status) << c.raw.substr(0, 120) << "\n->\n" << response;
    auto good = request_once(gw, messages_request(host_of(gw), "", false));
    EXPECT_EQ(good.status, 200) << "after " << c.raw.substr(0, 80);
  }
  EXPECT_EQ(api.requests().size(), cases.size());  // only the good ones (the bad chunked one never completed)
}

TEST(GatewayUpstreamStatus, UnauthorizedReachesTheClientUnchangedAndIsAudited) {
  MessagesStandIn api;
  api.set_status(401);
  api.start();
  GatewayHarness gw(options_for(api));
  UniqueFd fd = gw.connect();
  ASSERT_TRUE(send_all(fd.get(), messages_request(host_of(gw), "", true)));
  auto response = read_response(fd.get());
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body,
            R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})");
  EXPECT_EQ(response.header("content-type"), "application/json");
  EXPECT_EQ(response.header("request-id"), "req_standin_1");
  EXPECT_FALSE(response.closed);  // an upstream error is not the gateway's: the connection stays
  auto records = gw.audit_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["status"], 401);
  EXPECT_EQ(records[0]["error"], "");
  EXPECT_EQ(gw.gateway().stats().failed, 0u);
}

TEST(GatewayAudit, OneRecordPerRequestWithoutHeadersBodiesOrKeys) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  std::string body = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"BODY-MARKER-71"}]})";
  std::string raw = "POST /v1/messages?beta=true&QUERY-MARKER-42 HTTP/1.1\r\nHost: localhost\r\nx-api-key: " +
                    kPlaceholder + "\r\nX-Header-Marker: HEADER-MARKER-13\r\ncontent-length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  auto response = request_once(gw, raw);
  ASSERT_EQ(response.status, 200);
  auto records = gw.audit_records(1);
  ASSERT_EQ(records.size(), 1u);
  const auto& r = records[0];
  EXPECT_EQ(r["kind"], "gateway");
  EXPECT_EQ(r["method"], "POST");
  EXPECT_EQ(r["path"], "/v1/messages");
  EXPECT_EQ(r["status"], 200);
  EXPECT_EQ(r["host"], "127.0.0.1");
  EXPECT_EQ(r["port"], api.port());
  EXPECT_EQ(r["bytes_out"].get<std::uint64_t>(), raw.size());
  EXPECT_GT(r["bytes_in"].get<std::uint64_t>(), response.body.size());
  EXPECT_TRUE(r.contains("duration_ms"));
  std::string text = gw.audit_text();
  for (const std::string& secret : {kRealKey, kPlaceholder, std::string("BODY-MARKER"), std::string("QUERY-MARKER"),
                                    std::string("HEADER-MARKER"), std::string("x-api-key")})
    EXPECT_FALSE(contains(text, secret)) << secret << " in " << text;
  EXPECT_EQ(net::count_denials(gw.audit_path()), 0u);
  std::ostringstream shown;
  net::print_audit_log(gw.audit_path(), false, shown);
  EXPECT_TRUE(contains(shown.str(), "API   POST    127.0.0.1:" + std::to_string(api.port()) + "/v1/messages"))
      << shown.str();
  EXPECT_TRUE(contains(shown.str(), "status 200")) << shown.str();
}

TEST(GatewayAudit, PathsAreBoundedAndEscaped) {
  EXPECT_EQ(net::audit_path("/v1/messages?beta=true"), "/v1/messages");
  EXPECT_EQ(net::audit_path("/a\x01" "b\xff c"), "/a%01b%FF%20c");
  EXPECT_EQ(net::audit_path("/" + std::string(1000, 'a')).size(), 256u);
  EXPECT_EQ(net::audit_path("/" + std::string(1000, '\x7f')).size(), 256u);  // 1 + 85 * 3
}

TEST(GatewayLifecycle, StopEndsIdleKeptAliveConnections) {
  MessagesStandIn api;
  api.start();
  auto gw = std::make_unique<GatewayHarness>(options_for(api));
  UniqueFd fd = gw->connect();
  ASSERT_TRUE(send_all(fd.get(), messages_request(host_of(*gw), "", false)));
  ASSERT_EQ(read_response(fd.get()).status, 200);
  EXPECT_EQ(gw->gateway().stats().active_connections, 1u);
  gw.reset();  // stop() + run() returning: must not wait for the idle timeout
  EXPECT_TRUE(closed_by_peer(fd.get(), 5000));
}

TEST(GatewayUpstreamStatus, EarlyAnswerWhileTheBodyIsStillGoingUpIsRelayed) {
  // An upstream that answers after the head and closes (as a server refusing a body does):
  // the gateway stops sending the body (its writes may fail with EPIPE, which must not end the
  // process), relays the answer that came, and serves the next request.
  TestCa ca({"127.0.0.1"});
  LoopbackServer upstream(https_handler(ca, "refused early"));
  net::GatewayOptions options;
  options.upstream = "https://127.0.0.1:" + std::to_string(upstream.port());
  options.extra_ca_pem = ca.ca_pem();
  options.credential.value = kRealKey;
  GatewayHarness gw(std::move(options));
  for (int round = 0; round < 2; ++round) {
    UniqueFd fd = gw.connect();
    constexpr std::size_t kSize = 32u << 20;
    ASSERT_TRUE(send_all(fd.get(), "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\ncontent-length: " +
                                       std::to_string(kSize) + "\r\n\r\n"));
    std::atomic<bool> stop{false};
    std::thread sender([&] {
      std::string block(1 << 20, 'x');
      for (std::size_t sent = 0; sent < kSize && !stop; sent += block.size())
        if (!send_all(fd.get(), block, 10000)) break;
    });
    auto response = read_response(fd.get(), 20000);
    stop = true;
    ::shutdown(fd.get(), SHUT_RDWR);
    sender.join();
    EXPECT_EQ(response.status, 200) << response.head;
    EXPECT_EQ(response.body, "refused early");
  }
}

TEST(GatewayLimitsTest, SlowHeadGets408AndConnectionsBeyondTheLimitGet503) {
  MessagesStandIn api;
  api.start();
  net::GatewayOptions options = options_for(api);
  options.limits.header_timeout_seconds = 1;
  options.limits.max_connections = 1;
  GatewayHarness gw(std::move(options));
  UniqueFd slow = gw.connect();
  ASSERT_TRUE(send_all(slow.get(), "POST /v1/messages HTTP/1.1\r\nHost: loc"));
  std::string response = read_until_close(slow.get(), 10000);
  EXPECT_EQ(status_of(response), 408) << response;
  // The slot frees when the slow connection's thread has ended (just after its 408 went out).
  for (int i = 0; i < 500 && gw.gateway().stats().active_connections > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // A request whose body is still to come holds the only slot (its head is complete, so it is
  // not a waiting head the gateway could end): another connection is turned away.
  UniqueFd body = gw.connect();
  ASSERT_TRUE(send_all(body.get(), "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
                                   "content-length: 2\r\n\r\n"));
  EXPECT_EQ(read_head(body.get()), "HTTP/1.1 100 Continue\r\n\r\n");
  std::string busy = gw.exchange(messages_request(host_of(gw), "", false), 3000);
  EXPECT_EQ(status_of(busy), 503) << busy;
  body.reset();
  for (int i = 0; i < 500 && gw.gateway().stats().active_connections > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto after = request_once(gw, messages_request(host_of(gw), "", false));
  EXPECT_EQ(after.status, 200);
}

TEST(GatewayUpstreamStatus, UnreachableUpstreamIs502WithTheReason) {
  std::uint16_t port;
  {
    LoopbackServer closed(echo_handler());
    port = closed.port();
  }  // nothing listens there now
  net::GatewayOptions options;
  options.upstream = "https://127.0.0.1:" + std::to_string(port);
  options.credential.value = kRealKey;
  GatewayHarness gw(std::move(options));
  auto response = request_once(gw, messages_request(host_of(gw), "", false));
  EXPECT_EQ(response.status, 502);
  EXPECT_TRUE(contains(response.body, "could not reach upstream 127.0.0.1:" + std::to_string(port))) << response.body;
  EXPECT_TRUE(contains(response.body, "refused")) << response.body;
}

TEST(GatewayKeepAlive, ExpectContinueAndHeadRequests) {
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  UniqueFd fd = gw.connect();
  std::string body = R"({"model":"m","stream":false,"messages":[]})";
  ASSERT_TRUE(send_all(fd.get(), "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
                                 "content-length: " + std::to_string(body.size()) + "\r\n\r\n"));
  std::string interim = read_head(fd.get());
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(send_all(fd.get(), body));
  auto response = read_response(fd.get());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(api.requests().at(0).header_count("expect"), 0u);
  ASSERT_TRUE(send_all(fd.get(), "HEAD /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::string head = read_head(fd.get());
  EXPECT_EQ(status_of(head), 404) << head;
  // No body followed the HEAD response: the next request on the connection works.
  ASSERT_TRUE(send_all(fd.get(), messages_request("localhost", "", false)));
  EXPECT_EQ(read_response(fd.get()).status, 200);
}

TEST(GatewayStream, LargeStreamedRequestLikeClaudeCodesIsAnsweredWithAStream) {
  // Claude Code's first request carries its system prompt and tools: hundreds of KiB of JSON.
  MessagesStandIn api;
  api.start();
  GatewayHarness gw(options_for(api));
  std::string tools = "[";
  for (int i = 0; i < 2000; ++i)
    tools += std::string(i ? "," : "") + R"({"name":"tool)" + std::to_string(i) +
             R"(","description":")" + std::string(100, 'd') + R"(","input_schema":{"type":"object"}})";
  tools += "]";
  std::string body = R"({"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"tools":)" + tools +
                     R"(,"messages":[{"role":"user","content":"say hi"}]})";
  ASSERT_GT(body.size(), 200u * 1024);
  std::string raw = "POST /v1/messages?beta=true HTTP/1.1\r\nHost: " + host_of(gw) +
                    "\r\ncontent-type: application/json\r\ncontent-length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  auto response = request_once(gw, raw);
  ASSERT_EQ(response.status, 200) << response.head;
  EXPECT_EQ(response.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_TRUE(contains(response.body, "event: message_stop")) << response.body.substr(0, 400);
  ASSERT_EQ(api.requests().size(), 1u);
  EXPECT_EQ(api.requests()[0].body_bytes, body.size());
}
