#pragma once
// The credential gateway's view of an upstream's HTTP/1.1 response head: status, headers and
// how the body is framed (RFC 9112 section 6.3), and the head rebuilt for the client without
// hop-by-hop headers. The body itself is relayed byte for byte as framed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_request.hpp"

namespace cc::net {

enum class ResponseFraming { none, length, chunked, until_close };

struct HttpResponseHead {
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  int status = 0;
  std::string reason;
  std::vector<HttpHeader> headers;
  ResponseFraming framing = ResponseFraming::until_close;
  std::uint64_t content_length = 0;
  bool closes = false;  // the upstream will close after this response (Connection: close, HTTP/1.0)
};

struct ResponseParseResult {
  enum class Status { incomplete, complete, error } status = Status::incomplete;
  std::size_t head_length = 0;
  std::string message;  // with error
  HttpResponseHead response;
};

// Parses a response head from the start of `buffer`. `to_head_request`: the response to HEAD
// has no body whatever its headers say.
ResponseParseResult parse_response_head(std::string_view buffer, std::size_t max_head_bytes, bool to_head_request);

// The head for the client: the upstream's status line and end-to-end headers, `Connection:
// close` when the gateway will close the client connection after this response.
std::string client_response_head(const HttpResponseHead& response, bool close);

}  // namespace cc::net
