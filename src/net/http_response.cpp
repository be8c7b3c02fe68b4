#include "net/http_response.hpp"

#include <algorithm>
#include <cctype>

#include "net/http_head.hpp"

namespace cc::net {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

ResponseParseResult error(std::string message) {
  ResponseParseResult r;
  r.status = ResponseParseResult::Status::error;
  r.message = std::move(message);
  return r;
}

bool hop_by_hop(const std::string& name) {
  static const char* const kNames[] = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
                                       "proxy-authenticate"};
  return std::any_of(std::begin(kNames), std::end(kNames), [&](const char* n) { return name == n; });
}

}  // namespace

ResponseParseResult parse_response_head(std::string_view buffer, std::size_t max_head_bytes, bool to_head_request) {
  size_t terminator = 0;
  size_t end = find_head_end(buffer.substr(0, std::min(buffer.size(), max_head_bytes + 4)), &terminator);
  if (end == std::string_view::npos) {
    if (buffer.size() > max_head_bytes) return error("the upstream's response head is larger than " + std::to_string(max_head_bytes) + " bytes");
    return {};
  }
  ResponseParseResult result;
  result.head_length = end + terminator;
  HttpResponseHead& r = result.response;
  std::string_view head = buffer.substr(0, end);
  auto split = head_lines(head);
  if (!split) return error("the upstream's response head contains control characters");
  const std::vector<std::string_view>& lines = *split;
  std::string_view sl = lines[0];
  if (sl.size() < 12 || (sl.substr(0, 9) != "HTTP/1.1 " && sl.substr(0, 9) != "HTTP/1.0 ") ||
      !std::isdigit(static_cast<unsigned char>(sl[9])) || !std::isdigit(static_cast<unsigned char>(sl[10])) ||
      !std::isdigit(static_cast<unsigned char>(sl[11])) || (sl.size() > 12 && sl[12] != ' '))
    return error("the upstream did not answer with an HTTP/1.x status line");
  r.version = std::string(sl.substr(0, 8));
  r.status = (sl[9] - '0') * 100 + (sl[10] - '0') * 10 + (sl[11] - '0');
  r.reason = sl.size() > 13 ? std::string(sl.substr(13)) : "";
  if (r.status < 100) return error("the upstream answered with status " + std::to_string(r.status));
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.empty() || line.front() == ' ' || line.front() == '\t') return error("the upstream sent a folded header line");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return error("the upstream sent a header line without a name");
    std::string name(line.substr(0, colon));
    if (name.find_first_of(" \t") != std::string::npos) return error("the upstream sent a malformed header name");
    r.headers.push_back({name, trim(line.substr(colon + 1))});
  }

  auto connection = header_tokens(r.headers, "connection");
  r.closes = std::find(connection.begin(), connection.end(), "close") != connection.end() ||
             (r.version == "HTTP/1.0" && std::find(connection.begin(), connection.end(), "keep-alive") == connection.end());
  auto te = header_tokens(r.headers, "transfer-encoding");
  auto lengths = header_values(r.headers, "content-length");
  if ((r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304 || to_head_request) {
    r.framing = ResponseFraming::none;
  } else if (!te.empty()) {
    // Chunked last: the body ends where the chunks say. Anything else: until the close.
    r.framing = te.back() == "chunked" ? ResponseFraming::chunked : ResponseFraming::until_close;
    if (r.framing == ResponseFraming::until_close) r.closes = true;
  } else if (!lengths.empty()) {
    std::uint64_t value = 0;
    for (size_t i = 0; i < lengths.size(); ++i) {
      const std::string& text = lengths[i];
      if (text.empty() || text.size() > 18 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return error("the upstream sent an invalid Content-Length");
      std::uint64_t v = std::stoull(text);
      if (i > 0 && v != value) return error("the upstream sent conflicting Content-Length headers");
      value = v;
    }
    r.framing = ResponseFraming::length;
    r.content_length = value;
  } else {
    r.framing = ResponseFraming::until_close;
    r.closes = true;
  }
  result.status = ResponseParseResult::Status::complete;
  return result;
}

std::string client_response_head(const HttpResponseHead& response, bool close) {
  std::vector<std::string> drop = header_tokens(response.headers, "connection");
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + response.reason + "\r\n";
  for (const auto& h : response.headers) {
    std::string n = lower(h.name);
    if (hop_by_hop(n)) continue;
    // Connection may not remove the framing headers: the body is relayed as framed.
    if (n != "content-length" && n != "transfer-encoding" && std::find(drop.begin(), drop.end(), n) != drop.end()) continue;
    out += h.name + ": " + h.value + "\r\n";
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace cc::net
