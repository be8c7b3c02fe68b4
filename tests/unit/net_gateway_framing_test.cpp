// The gateway's pure HTTP pieces: the upstream URL, the request head it sends upstream and the
// response head it gives the client (hop-by-hop headers, framing).
#include <gtest/gtest.h>

#include "net/gateway_request.hpp"
#include "net/http_request.hpp"
#include "net/http_response.hpp"
#include "util/error.hpp"

using namespace cc::net;

namespace {

HttpRequest origin_request(const std::string& raw) {
  auto parsed = parse_request_head(raw, 32768, RequestForm::origin);
  EXPECT_EQ(parsed.status, ParseResult::Status::complete) << parsed.message;
  return parsed.request;
}

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST(GatewayFraming, UpstreamUrlForms) {
  auto a = parse_upstream_url("https://api.anthropic.com");
  EXPECT_EQ(a.host.text, "api.anthropic.com");
  EXPECT_EQ(a.port, 443);
  EXPECT_EQ(a.base_path, "");
  EXPECT_EQ(a.host_header, "api.anthropic.com");
  auto b = parse_upstream_url("HTTPS://Gateway.Example:8443/anthropic/");
  EXPECT_EQ(b.host.text, "gateway.example");
  EXPECT_EQ(b.port, 8443);
  EXPECT_EQ(b.base_path, "/anthropic");
  EXPECT_EQ(b.host_header, "gateway.example:8443");
  auto c = parse_upstream_url("https://[::1]:4443");
  EXPECT_EQ(c.host.kind, HostKind::ipv6);
  EXPECT_EQ(c.host_header, "[::1]:4443");
  EXPECT_THROW(parse_upstream_url("https://x.example/a/../b"), cc::Error);
}

TEST(GatewayFraming, OriginFormOnly) {
  EXPECT_EQ(parse_request_head("CONNECT a:443 HTTP/1.1\r\n\r\n", 4096, RequestForm::origin).http_status, 405);
  EXPECT_EQ(parse_request_head("GET http://a/ HTTP/1.1\r\n\r\n", 4096, RequestForm::origin).http_status, 400);
  EXPECT_EQ(parse_request_head("GET a/b HTTP/1.1\r\n\r\n", 4096, RequestForm::origin).http_status, 400);
  auto ok = parse_request_head("GET /v1/models?x=1#frag HTTP/1.1\r\nHost: localhost\r\n\r\n", 4096, RequestForm::origin);
  ASSERT_EQ(ok.status, ParseResult::Status::complete);
  EXPECT_EQ(ok.request.origin_form, "/v1/models?x=1");
  // The proxy's form is unchanged: an origin-form target is still refused there.
  EXPECT_EQ(parse_request_head("GET /v1/models HTTP/1.1\r\nHost: a\r\n\r\n", 4096).http_status, 400);
}

TEST(GatewayFraming, RequestHeadDropsHopByHopAndCredentialHeaders) {
  auto upstream = parse_upstream_url("https://api.example.com/base");
  auto request = origin_request(
      "POST /v1/messages?beta=true HTTP/1.1\r\nHost: localhost:3129\r\nConnection: keep-alive, X-Private\r\n"
      "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\nX-Private: secret-hop\r\nProxy-Authorization: p\r\n"
      "Proxy-Connection: keep-alive\r\nExpect: 100-continue\r\nX-Api-Key: placeholder\r\nAuthorization: Bearer p\r\n"
      "Cookie: c=1\r\nUser-Agent: claude-cli/2.0\r\nContent-Length: 2\r\n\r\n");
  UpstreamCredential key{CredentialKind::api_key, "sk-ant-api03-real"};
  std::string head = gateway_request_head(request, upstream, key);
  EXPECT_EQ(head.substr(0, head.find("\r\n")), "POST /base/v1/messages?beta=true HTTP/1.1");
  EXPECT_TRUE(has(head, "\r\nHost: api.example.com\r\n")) << head;
  EXPECT_TRUE(has(head, "\r\nUser-Agent: claude-cli/2.0\r\n")) << head;
  EXPECT_TRUE(has(head, "\r\nContent-Length: 2\r\n")) << head;
  EXPECT_TRUE(has(head, "\r\nx-api-key: sk-ant-api03-real\r\n")) << head;
  for (const char* gone : {"Connection", "Keep-Alive", "TE:", "Trailer", "X-Private", "Proxy-", "Expect",
                           "placeholder", "Authorization", "Cookie", "localhost"})
    EXPECT_FALSE(has(head, gone)) << gone << " in " << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST(GatewayFraming, ConnectionCannotRemoveTheFramingHeaders) {
  auto upstream = parse_upstream_url("https://api.example.com");
  auto request = origin_request(
      "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: Transfer-Encoding, Content-Length\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  std::string head = gateway_request_head(request, upstream, {CredentialKind::api_key, "k"});
  EXPECT_TRUE(has(head, "\r\nTransfer-Encoding: chunked\r\n")) << head;
}

TEST(GatewayFraming, ResponseFraming) {
  auto parse = [](const std::string& raw, bool head = false) { return parse_response_head(raw, 65536, head); };
  auto chunked = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(chunked.status, ResponseParseResult::Status::complete);
  EXPECT_EQ(chunked.response.framing, ResponseFraming::chunked);
  EXPECT_FALSE(chunked.response.closes);
  auto length = parse("HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n");
  EXPECT_EQ(length.response.framing, ResponseFraming::length);
  EXPECT_EQ(length.response.content_length, 12u);
  EXPECT_EQ(length.response.reason, "Unauthorized");
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").status,
            ResponseParseResult::Status::error);
  auto until_close = parse("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
  EXPECT_EQ(until_close.response.framing, ResponseFraming::until_close);
  EXPECT_TRUE(until_close.response.closes);
  EXPECT_EQ(parse("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").response.framing, ResponseFraming::none);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true).response.framing, ResponseFraming::none);
  EXPECT_TRUE(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").response.closes);
  EXPECT_TRUE(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").response.closes);
  EXPECT_EQ(parse("SSH-2.0-OpenSSH\r\n\r\n").status, ResponseParseResult::Status::error);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n" + std::string(70000, 'a')).status, ResponseParseResult::Status::error);
}

TEST(GatewayFraming, ClientResponseHeadDropsHopByHop) {
  auto parsed = parse_response_head(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\n"
      "Transfer-Encoding: chunked\r\nrequest-id: req_1\r\nUpgrade: h2c\r\n\r\n",
      65536, false);
  ASSERT_EQ(parsed.status, ResponseParseResult::Status::complete);
  std::string kept = client_response_head(parsed.response, false);
  EXPECT_EQ(kept, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nrequest-id: req_1\r\n\r\n");
  std::string closing = client_response_head(parsed.response, true);
  EXPECT_EQ(closing, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nrequest-id: req_1\r\nConnection: close\r\n\r\n");
}
