#include "net/http_request.hpp"

#include <algorithm>
#include <cctype>

#include "net/http_head.hpp"

namespace cc::net {
namespace {

bool token_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

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

ParseResult error(int status, std::string message) {
  ParseResult r;
  r.status = ParseResult::Status::error;
  r.http_status = status;
  r.message = std::move(message);
  return r;
}

// Finds the end of the head: the first empty line. Returns npos when not there yet.
bool parse_authority(const std::string& authority, std::uint16_t default_port, bool port_required,
                     HttpRequest* request, std::string* why) {
  HostPort hp;
  if (!split_host_port(authority, &hp, why)) return false;
  if (!hp.port && port_required) {
    *why = "CONNECT needs host:port";
    return false;
  }
  bool was_bracketed = !authority.empty() && authority.front() == '[';
  auto host = canonical_host(was_bracketed ? "[" + hp.host + "]" : hp.host, why);
  if (!host) return false;
  request->host = *host;
  request->port = hp.port ? static_cast<std::uint16_t>(*hp.port) : default_port;
  return true;
}

bool parse_unsigned(const std::string& text, std::uint64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  *out = std::stoull(text);
  return true;
}

}  // namespace

ParseResult parse_request_head(std::string_view buffer, std::size_t max_head_bytes, RequestForm form) {
  size_t terminator = 0;
  size_t end = find_head_end(buffer, &terminator);
  if (end == std::string_view::npos) {
    if (buffer.size() > max_head_bytes)
      return error(431, "the request head is larger than " + std::to_string(max_head_bytes) + " bytes");
    // Reject obvious garbage early rather than waiting for a head that will never be valid.
    for (char c : buffer.substr(0, std::min<size_t>(buffer.size(), 16))) {
      if (c == ' ' || c == '\r' || c == '\n') break;
      if (!token_char(c))
        return error(400, form == RequestForm::proxy
                              ? "this is an HTTP proxy; the request does not start with an HTTP method"
                              : "this is an HTTP gateway; the request does not start with an HTTP method");
    }
    for (char c : buffer)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
        return error(400, "the request head contains control characters");
    return {};
  }
  size_t head_length = end + terminator;
  if (head_length > max_head_bytes)
    return error(431, "the request head is larger than " + std::to_string(max_head_bytes) + " bytes");

  std::string_view head = buffer.substr(0, end);
  auto split = head_lines(head);
  if (!split) return error(400, "the request head contains control characters");
  const std::vector<std::string_view>& lines = *split;

  ParseResult result;
  HttpRequest& req = result.request;
  // Request line: METHOD SP TARGET SP VERSION
  std::string_view rl = lines[0];
  auto sp1 = rl.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : rl.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || rl.find(' ', sp2 + 1) != std::string_view::npos)
    return error(400, "the request line is not 'METHOD TARGET HTTP/1.1'");
  req.method = std::string(rl.substr(0, sp1));
  req.target = std::string(rl.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(rl.substr(sp2 + 1));
  if (req.method.empty() || !std::all_of(req.method.begin(), req.method.end(), token_char))
    return error(400, "the request method is not a valid token");
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0")
    return error(400, "only HTTP/1.0 and HTTP/1.1 requests are supported");
  if (req.target.empty()) return error(400, "the request target is empty");

  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') return error(400, "folded header lines are not accepted");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return error(400, "a header line has no name");
    std::string name(line.substr(0, colon));
    if (!std::all_of(name.begin(), name.end(), token_char)) return error(400, "a header name is not a valid token");
    req.headers.push_back({name, trim(line.substr(colon + 1))});
  }

  // Body framing (RFC 9112 section 6): both, conflicting or unparseable lengths are refused.
  bool have_length = false, have_te = false;
  for (const auto& h : req.headers) {
    std::string n = lower(h.name);
    if (n == "content-length") {
      std::uint64_t v = 0;
      if (!parse_unsigned(h.value, &v)) return error(400, "Content-Length is not a number");
      if (have_length && v != req.content_length) return error(400, "conflicting Content-Length headers");
      have_length = true;
      req.content_length = v;
    } else if (n == "transfer-encoding") {
      if (have_te || lower(h.value) != "chunked")
        return error(501, "only 'Transfer-Encoding: chunked' request bodies are supported");
      have_te = true;
    }
  }
  if (have_length && have_te) return error(400, "a request cannot have both Content-Length and Transfer-Encoding");
  req.framing = have_te ? BodyFraming::chunked : have_length ? BodyFraming::length : BodyFraming::none;

  std::string why;
  if (form == RequestForm::origin) {
    if (lower(req.method) == "connect")
      return error(405, "the credential gateway forwards API requests only; it does not open tunnels (CONNECT)");
    if (req.target.front() != '/')
      return error(400, "the credential gateway accepts origin-form requests only (a path such as /v1/messages), "
                        "not absolute URIs: the upstream host is fixed by the config");
    std::string path = req.target;
    auto hash = path.find('#');
    if (hash != std::string::npos) path.erase(hash);
    req.origin_form = path;
    result.status = ParseResult::Status::complete;
    result.head_length = head_length;
    return result;
  }
  if (lower(req.method) == "connect") {
    if (req.method != "CONNECT") return error(400, "methods are case-sensitive: use CONNECT");
    req.is_connect = true;
    if (req.framing != BodyFraming::none) return error(400, "a CONNECT request cannot have a body");
    if (!parse_authority(req.target, 0, true, &req, &why)) return error(400, "bad CONNECT target: " + why);
  } else {
    std::string target_lower = lower(req.target.substr(0, std::min<size_t>(req.target.size(), 8)));
    if (target_lower.rfind("https://", 0) == 0)
      return error(400, "send https:// requests as CONNECT tunnels (set HTTPS_PROXY), not as plain requests");
    if (target_lower.rfind("http://", 0) != 0)
      return error(400, "this is a proxy: the request target must be an absolute http:// URI or a CONNECT authority");
    std::string rest = req.target.substr(7);
    size_t path_start = rest.find_first_of("/?#");
    std::string authority = rest.substr(0, path_start);
    if (authority.find('@') != std::string::npos) return error(400, "user names in proxy request URIs are not accepted");
    if (authority.empty()) return error(400, "the request URI has no host");
    if (!parse_authority(authority, 80, false, &req, &why)) return error(400, "bad request URI: " + why);
    std::string path = path_start == std::string::npos ? "" : rest.substr(path_start);
    auto hash = path.find('#');
    if (hash != std::string::npos) path.erase(hash);
    if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
    req.origin_form = path;
  }
  if (req.port == 0) return error(400, "port 0 is not a destination");
  result.status = ParseResult::Status::complete;
  result.head_length = head_length;
  return result;
}

std::string upstream_request_head(const HttpRequest& request) {
  std::vector<std::string> drop = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
                                   "proxy-authenticate", "te", "trailer", "upgrade", "host"};
  for (const auto& h : request.headers) {
    if (lower(h.name) != "connection") continue;
    size_t start = 0;
    std::string v = h.value;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string token = lower(trim(std::string_view(v).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      // Connection may not remove the framing headers: the body is forwarded as framed.
      if (!token.empty() && token != "transfer-encoding" && token != "content-length") drop.push_back(token);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::string out = request.method + " " + request.origin_form + " " + request.version + "\r\n";
  out += "Host: " + bracketed(request.host);
  if (request.port != 80) out += ":" + std::to_string(request.port);
  out += "\r\n";
  for (const auto& h : request.headers) {
    std::string n = lower(h.name);
    if (n.rfind("proxy-", 0) == 0) continue;
    if (std::find(drop.begin(), drop.end(), n) != drop.end()) continue;
    out += h.name + ": " + h.value + "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  return out;
}

std::vector<std::string> header_values(const std::vector<HttpHeader>& headers, std::string_view name) {
  std::vector<std::string> out;
  std::string wanted = lower(std::string(name));
  for (const auto& h : headers)
    if (lower(h.name) == wanted) out.push_back(h.value);
  return out;
}

std::vector<std::string> header_tokens(const std::vector<HttpHeader>& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& v : header_values(headers, name)) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string token = lower(trim(std::string_view(v).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (!token.empty()) out.push_back(token);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

std::string simple_response(int status, const std::string& body, const std::vector<HttpHeader>& extra) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& h : extra) out += h.name + ": " + h.value + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

std::size_t ChunkedBodyTracker::consume(const char* data, std::size_t n) {
  std::size_t i = 0;
  auto fail = [&] { state_ = State::failed; return i; };
  while (i < n) {
    char c = data[i];
    switch (state_) {
      case State::size:
        if (std::isxdigit(static_cast<unsigned char>(c))) {
          if (++size_digits_ > 15) return fail();
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10));
        } else if (size_digits_ == 0) {
          return fail();
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::size_ext;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          state_ = remaining_ ? State::data : State::trailer_start;
        } else {
          return fail();
        }
        break;
      case State::size_ext:
        if (++line_bytes_ > 4096) return fail();
        if (c == '\r') state_ = State::size_lf;
        else if (c == '\n') state_ = remaining_ ? State::data : State::trailer_start;
        break;
      case State::size_lf:
        if (c != '\n') return fail();
        state_ = remaining_ ? State::data : State::trailer_start;
        break;
      case State::data: {
        std::uint64_t take = std::min<std::uint64_t>(remaining_, n - i);
        remaining_ -= take;
        i += static_cast<std::size_t>(take);
        if (remaining_ == 0) state_ = State::data_cr;
        continue;
      }
      case State::data_cr:
        if (c == '\r') state_ = State::data_lf;
        else if (c == '\n') { state_ = State::size; size_digits_ = 0; line_bytes_ = 0; }
        else return fail();
        break;
      case State::data_lf:
        if (c != '\n') return fail();
        state_ = State::size;
        size_digits_ = 0;
        line_bytes_ = 0;
        break;
      case State::trailer_start:
        if (c == '\r') state_ = State::final_lf;
        else if (c == '\n') { ++i; state_ = State::done; return i; }
        else { state_ = State::trailer_line; line_bytes_ = 1; }
        break;
      case State::trailer_line:
        if (++line_bytes_ > 8192) return fail();
        if (c == '\r') state_ = State::trailer_lf;
        else if (c == '\n') state_ = State::trailer_start;
        break;
      case State::trailer_lf:
        if (c != '\n') return fail();
        state_ = State::trailer_start;
        break;
      case State::final_lf:
        if (c != '\n') return fail();
        ++i;
        state_ = State::done;
        return i;
      case State::done:
      case State::failed:
        return i;
    }
    ++i;
  }
  return i;
}

}  // namespace cc::net
