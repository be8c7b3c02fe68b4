// The proxy's request-head parser, rewriter and chunked-body tracker.
#include <gtest/gtest.h>

#include "net/http_request.hpp"

using namespace cc::net;

namespace {
ParseResult parse(const std::string& s, std::size_t max = 32768) { return parse_request_head(s, max); }
}  // namespace

TEST(NetHttpRequest, ConnectAuthority) {
  auto r = parse("CONNECT Api.Example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\nTLSDATA");
  ASSERT_EQ(r.status, ParseResult::Status::complete) << r.message;
  EXPECT_TRUE(r.request.is_connect);
  EXPECT_EQ(r.request.host.text, "api.example.com");
  EXPECT_EQ(r.request.port, 443);
  EXPECT_EQ(r.head_length, std::string("CONNECT Api.Example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n").size());
  auto v6 = parse("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n");
  ASSERT_EQ(v6.status, ParseResult::Status::complete);
  EXPECT_EQ(v6.request.host.text, "2001:db8::1");
  EXPECT_EQ(v6.request.host.kind, HostKind::ipv6);
}

TEST(NetHttpRequest, IncompleteUntilBlankLine) {
  EXPECT_EQ(parse("CONNECT a.example:443 HTTP/1.1\r\nHost: x").status, ParseResult::Status::incomplete);
  EXPECT_EQ(parse("GET http://a.example/ HTTP/1.1\n\n").status, ParseResult::Status::complete);
}

TEST(NetHttpRequest, AbsoluteUriRewrittenToOriginForm) {
  auto r = parse(
      "GET http://Example.com:8080/a/b?q=1#frag HTTP/1.1\r\nHost: evil.example\r\nProxy-Authorization: Basic eA==\r\n"
      "Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\n"
      "TE: trailers\r\nUpgrade: h2c\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(r.status, ParseResult::Status::complete) << r.message;
  EXPECT_EQ(r.request.port, 8080);
  EXPECT_EQ(r.request.origin_form, "/a/b?q=1");
  std::string head = upstream_request_head(r.request);
  EXPECT_EQ(head.rfind("GET /a/b?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Accept: */*\r\n"), std::string::npos);
  EXPECT_NE(head.find("Connection: close\r\n\r\n"), std::string::npos);
  for (const char* gone : {"evil.example", "Proxy-", "keep-alive", "X-Secret", "Keep-Alive", "TE:", "Upgrade"})
    EXPECT_EQ(head.find(gone), std::string::npos) << gone << " in " << head;
}

TEST(NetHttpRequest, DefaultPortAndEmptyPath) {
  auto r = parse("GET http://example.com HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.status, ParseResult::Status::complete);
  EXPECT_EQ(r.request.port, 80);
  EXPECT_EQ(r.request.origin_form, "/");
  EXPECT_EQ(upstream_request_head(r.request).rfind("GET / HTTP/1.0\r\nHost: example.com\r\n", 0), 0u);
}

TEST(NetHttpRequest, BodyFraming) {
  auto len = parse("POST http://e.example/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(len.status, ParseResult::Status::complete);
  EXPECT_EQ(len.request.framing, BodyFraming::length);
  EXPECT_EQ(len.request.content_length, 5u);
  auto ch = parse("POST http://e.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(ch.request.framing, BodyFraming::chunked);
  EXPECT_NE(upstream_request_head(ch.request).find("Transfer-Encoding: chunked"), std::string::npos);
}

TEST(NetHttpRequest, RejectsHostileOrMalformedHeads) {
  struct Case {
    std::string head;
    int status;
  };
  std::vector<Case> cases = {
      {"\x16\x03\x01\x02\x00garbage", 400},
      {"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400},  // origin-form: not a proxy request
      {"GET https://example.com/ HTTP/1.1\r\n\r\n", 400},
      {"GET http://user:pw@example.com/ HTTP/1.1\r\n\r\n", 400},
      {"GET http:///x HTTP/1.1\r\n\r\n", 400},
      {"GET http://exa mple.com/ HTTP/1.1\r\n\r\n", 400},
      {"GET http://example.com/ HTTP/2.0\r\n\r\n", 400},
      {"GET  http://example.com/ HTTP/1.1\r\n\r\n", 400},
      {"CONNECT example.com HTTP/1.1\r\n\r\n", 400},
      {"CONNECT example.com:0 HTTP/1.1\r\n\r\n", 400},
      {"CONNECT example.com:99999 HTTP/1.1\r\n\r\n", 400},
      {"CONNECT 2001:db8::1:443 HTTP/1.1\r\n\r\n", 400},
      {"connect example.com:443 HTTP/1.1\r\n\r\n", 400},
      {"CONNECT 0x7f000001:443 HTTP/1.1\r\n\r\n", 400},
      {"CONNECT 127.1:443 HTTP/1.1\r\n\r\n", 400},
      {"GET http://example.com/ HTTP/1.1\r\n folded: x\r\n\r\n", 400},
      {"GET http://example.com/ HTTP/1.1\r\nNo colon\r\n\r\n", 400},
      {"GET http://example.com/ HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"GET http://example.com/ HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400},
      {"POST http://example.com/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {"POST http://example.com/ HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400},
      {"POST http://example.com/ HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"POST http://example.com/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"CONNECT example.com:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 400},
  };
  for (const auto& c : cases) {
    auto r = parse(c.head);
    EXPECT_EQ(r.status, ParseResult::Status::error) << c.head;
    EXPECT_EQ(r.http_status, c.status) << c.head << " -> " << r.message;
    EXPECT_FALSE(r.message.empty());
  }
}

TEST(NetHttpRequest, OversizedHeadIs431) {
  std::string head = "GET http://example.com/ HTTP/1.1\r\nX: " + std::string(2000, 'a');
  auto r = parse(head, 1024);
  EXPECT_EQ(r.status, ParseResult::Status::error);
  EXPECT_EQ(r.http_status, 431);
  auto complete = parse(head + "\r\n\r\n", 1024);
  EXPECT_EQ(complete.http_status, 431);
}

TEST(NetHttpRequest, SimpleResponse) {
  auto r = simple_response(403, "blocked\n", {{"X-Proxy-Error", "blocked-by-policy"}});
  EXPECT_EQ(r.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u);
  EXPECT_NE(r.find("Content-Length: 8\r\n"), std::string::npos);
  EXPECT_NE(r.find("X-Proxy-Error: blocked-by-policy\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 8), "blocked\n");
}

TEST(NetChunkedBody, FindsTheEndThroughAnySplit) {
  const std::string body = "5\r\nhello\r\n1A;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n";
  const std::string after = "GET http://other.example/ HTTP/1.1\r\n\r\n";
  for (std::size_t split = 0; split <= body.size(); ++split) {
    ChunkedBodyTracker t;
    std::string all = body + after;
    std::size_t a = t.consume(all.data(), split);
    EXPECT_EQ(a, split);
    EXPECT_EQ(t.done(), split == body.size()) << split;
    std::size_t b = t.consume(all.data() + split, all.size() - split);
    EXPECT_TRUE(t.done()) << split;
    EXPECT_EQ(a + b, body.size()) << split;
  }
}

TEST(NetChunkedBody, RejectsGarbage) {
  for (std::string bad : {"zz\r\n", "5\r\nhelloXX", "\r\n", "fffffffffffffffff\r\n"}) {
    ChunkedBodyTracker t;
    t.consume(bad.data(), bad.size());
    EXPECT_TRUE(t.failed()) << bad;
  }
  ChunkedBodyTracker empty;
  std::string last = "0\r\n\r\n";
  EXPECT_EQ(empty.consume(last.data(), last.size()), last.size());
  EXPECT_TRUE(empty.done());
}
