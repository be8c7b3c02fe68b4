#include "net/gateway_request.hpp"

#include <algorithm>
#include <cctype>

#include "util/error.hpp"

namespace cc::net {
namespace {

constexpr const char* kOauthBeta = "oauth-2025-04-20";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A path segment "." or ".." (also percent-encoded) could climb out of the base path upstream.
// So could a slash the gateway does not see as one: servers in front of an upstream decode
// %2F before resolving dot segments (nginx), treat a backslash as a slash (IIS), or read
// "..;x" as ".." (Tomcat's path parameters): those count as dot segments too.
bool has_dot_segment(const std::string& target) {
  std::string path = lower(target.substr(0, target.find('?')));
  if (path.find('\\') != std::string::npos || path.find("%2f") != std::string::npos ||
      path.find("%5c") != std::string::npos)
    return true;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string segment = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    segment = segment.substr(0, segment.find(';'));
    for (size_t p; (p = segment.find("%2e")) != std::string::npos;) segment.replace(p, 3, ".");
    if (segment == "." || segment == "..") return true;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return false;
}

}  // namespace

GatewayUpstream parse_upstream_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return usage_error("credentials.upstream \"" + url + "\" is not usable: " + why +
                       "; use https://host[:port][/base-path], e.g. https://api.anthropic.com");
  };
  if (lower(url.substr(0, 8)) != "https://") throw bad("the gateway talks to its upstream over https only");
  std::string rest = url.substr(8);
  if (rest.find_first_of("?#") != std::string::npos) throw bad("it has a query or fragment");
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.empty()) throw bad("it names no host");
  if (authority.find('@') != std::string::npos) throw bad("user names in the URL are not accepted");
  HostPort hp;
  std::string why;
  if (!split_host_port(authority, &hp, &why)) throw bad(why);
  bool bracketed_v6 = authority.front() == '[';
  auto host = canonical_host(bracketed_v6 ? "[" + hp.host + "]" : hp.host, &why);
  if (!host) throw bad(why);
  if (hp.port && (*hp.port == 0 || *hp.port > 65535)) throw bad("the port is out of range");
  for (char c : path)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) throw bad("the path contains spaces or control characters");
  while (!path.empty() && path.back() == '/') path.pop_back();
  GatewayUpstream up;
  up.host = *host;
  up.port = hp.port ? static_cast<std::uint16_t>(*hp.port) : 443;
  up.base_path = path;
  if (has_dot_segment(path)) throw bad("the path has . or .. segments");
  up.host_header = bracketed(up.host) + (up.port == 443 ? "" : ":" + std::to_string(up.port));
  return up;
}

GatewayRefusal check_gateway_request(const HttpRequest& request, const GatewayUpstream& upstream) {
  // TRACE (and TRACK, or a lower-case spelling a server might still honour) makes a server
  // echo the request it received, the real credential included, back to the sandbox: only the
  // methods an API client uses go up, spelled exactly.
  static const std::vector<std::string> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  if (!contains(kMethods, request.method))
    return {405, "the credential gateway forwards the methods GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS only, "
                 "not " + request.method.substr(0, 32)};
  auto hosts = header_values(request.headers, "host");
  if (hosts.size() > 1) return {400, "the request has more than one Host header"};
  if (hosts.empty()) {
    if (request.version == "HTTP/1.1") return {400, "an HTTP/1.1 request needs a Host header"};
  } else {
    HostPort hp;
    std::string why;
    if (!split_host_port(hosts[0], &hp, &why)) return {400, "the Host header is not host[:port]: " + why};
    bool bracketed_v6 = !hosts[0].empty() && hosts[0].front() == '[';
    auto host = canonical_host(bracketed_v6 ? "[" + hp.host + "]" : hp.host, &why);
    if (!host) return {400, "the Host header is not a host name: " + why};
    bool ours = host->text == "localhost" || host->text == "127.0.0.1" || host->text == "::1" ||
                host->text == upstream.host.text;
    if (!ours)
      return {421, "the credential gateway forwards only to the upstream the config names (" + upstream.host_header +
                       "); the Host header names " + host->text};
  }
  if (has_dot_segment(request.origin_form))
    return {400, "the request path has . or .. segments, or an encoded slash or backslash that could act as one"};
  if (!header_values(request.headers, "upgrade").empty())
    return {400, "the credential gateway does not switch protocols (Upgrade)"};
  return {};
}

std::string gateway_request_head(const HttpRequest& request, const GatewayUpstream& upstream,
                                 const UpstreamCredential& credential) {
  std::vector<std::string> drop = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
                                   "host", "expect", "x-api-key", "authorization", "cookie", "anthropic-beta"};
  for (const auto& token : header_tokens(request.headers, "connection"))
    if (token != "transfer-encoding" && token != "content-length") drop.push_back(token);

  std::string out = request.method + " " + upstream.base_path + request.origin_form + " HTTP/1.1\r\n";
  out += "Host: " + upstream.host_header + "\r\n";
  for (const auto& h : request.headers) {
    std::string n = lower(h.name);
    if (n.rfind("proxy-", 0) == 0 || contains(drop, n)) continue;
    out += h.name + ": " + h.value + "\r\n";
  }
  // anthropic-beta is a comma list: keep the client's flags, in order, in one header.
  std::vector<std::string> betas;
  for (const auto& value : header_values(request.headers, "anthropic-beta")) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      std::string token = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      token.erase(0, token.find_first_not_of(" \t"));
      token.erase(token.find_last_not_of(" \t") + 1);
      if (!token.empty() && !contains(betas, token)) betas.push_back(token);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (credential.kind == CredentialKind::oauth_token) {
    if (!contains(betas, kOauthBeta)) betas.emplace_back(kOauthBeta);
    out += "Authorization: Bearer " + credential.value + "\r\n";
  } else {
    out += "x-api-key: " + credential.value + "\r\n";
  }
  if (!betas.empty()) {
    out += "anthropic-beta: ";
    for (size_t i = 0; i < betas.size(); ++i) out += (i ? "," : "") + betas[i];
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

bool expects_continue(const HttpRequest& request) {
  return contains(header_tokens(request.headers, "expect"), "100-continue");
}

bool client_keeps_alive(const HttpRequest& request) {
  auto tokens = header_tokens(request.headers, "connection");
  if (request.version == "HTTP/1.0") return false;  // keeps the 1.0 keep-alive dialect out
  return !contains(tokens, "close");
}

}  // namespace cc::net
