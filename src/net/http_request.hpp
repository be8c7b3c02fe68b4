#pragma once
// The HTTP/1.x request-head parser (the egress proxy's proxy-form requests and the credential
// gateway's origin-form ones) and the proxy's rewriter. Strict where laxness could let a
// request mean one thing to us and another to the upstream (conflicting lengths, obs-fold,
// bare control characters), tolerant of bare-LF line ends (the rebuilt head always uses CRLF).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/host_name.hpp"

namespace cc::net {

struct HttpHeader {
  std::string name;
  std::string value;
};

enum class BodyFraming { none, length, chunked };

struct HttpRequest {
  std::string method;
  std::string target;
  std::string version;               // "HTTP/1.1" or "HTTP/1.0"
  std::vector<HttpHeader> headers;
  bool is_connect = false;
  CanonicalHost host;                // from the CONNECT authority or the absolute URI
  std::uint16_t port = 0;
  std::string origin_form;           // path and query for plain HTTP ("/" when empty)
  BodyFraming framing = BodyFraming::none;
  std::uint64_t content_length = 0;  // with BodyFraming::length
};

struct ParseResult {
  enum class Status { incomplete, complete, error } status = Status::incomplete;
  std::size_t head_length = 0;   // bytes of the head including the blank line, when complete
  int http_status = 0;           // with error: 400, 431, 501
  std::string message;           // with error: why, for the response body
  HttpRequest request;
};

// What request targets a parser accepts: the egress proxy takes absolute http:// URIs and
// CONNECT authorities; the credential gateway takes origin-form paths only ("/v1/messages?x"),
// so a request cannot name another host than the one the config fixed.
enum class RequestForm { proxy, origin };

// Parses a request head from the start of `buffer`. Incomplete heads longer than
// `max_head_bytes` are an error (431). With RequestForm::origin, CONNECT is 405, an absolute
// URI or any target not starting with '/' is 400, and `origin_form` is the target without
// its fragment (host and port stay empty).
ParseResult parse_request_head(std::string_view buffer, std::size_t max_head_bytes,
                               RequestForm form = RequestForm::proxy);

// Values of every header named `name` (case-insensitive), in order.
std::vector<std::string> header_values(const std::vector<HttpHeader>& headers, std::string_view name);
// Lowercased, trimmed tokens of a comma-separated list header ("Connection: close, Upgrade").
std::vector<std::string> header_tokens(const std::vector<HttpHeader>& headers, std::string_view name);

// The head sent upstream for a plain-HTTP request: origin-form target, Host set from the URI,
// hop-by-hop and Proxy-* headers removed, `Connection: close` added.
std::string upstream_request_head(const HttpRequest& request);

// A complete response with `Connection: close` and a text body.
// (reason_phrase knows the statuses the proxy and the gateway send themselves.)
std::string simple_response(int status, const std::string& body,
                            const std::vector<HttpHeader>& extra_headers = {});
const char* reason_phrase(int status);

// Follows a chunked request body through arbitrary splits, so the proxy forwards exactly the
// body and nothing after it. It does not change the bytes.
class ChunkedBodyTracker {
 public:
  // Consumes up to n bytes; returns how many belong to the body (all n unless the body ends
  // inside them). After done() or failed() it consumes nothing.
  std::size_t consume(const char* data, std::size_t n);
  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::failed; }

 private:
  enum class State { size, size_ext, size_lf, data, data_cr, data_lf, trailer_start, trailer_line,
                     trailer_lf, final_lf, done, failed };
  State state_ = State::size;
  std::uint64_t remaining_ = 0;
  int size_digits_ = 0;
  std::size_t line_bytes_ = 0;
};

}  // namespace cc::net
