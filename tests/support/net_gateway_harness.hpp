#pragma once
// Runs a CredentialGateway on its own thread, listening on an ephemeral 127.0.0.1 port, with
// its audit log in a temporary directory, and a small HTTP/1.1 client that reads one response
// at a time (Content-Length, chunked or until close) so keep-alive can be tested.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "net/credential_gateway.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace cc::test {

class GatewayHarness {
 public:
  // options.listeners and options.audit_log are filled in by the harness.
  explicit GatewayHarness(net::GatewayOptions options);
  ~GatewayHarness();
  std::uint16_t port() const { return port_; }
  net::CredentialGateway& gateway() { return *gateway_; }
  const std::filesystem::path& audit_path() const { return audit_; }
  std::vector<nlohmann::json> audit_records(std::size_t at_least = 0, int timeout_ms = 5000) const;
  std::string audit_text() const;  // the raw file
  UniqueFd connect() const;
  // Connects, sends `raw`, returns everything until the gateway closes (or the deadline).
  std::string exchange(const std::string& raw, int timeout_ms = 10000) const;

 private:
  TempDir dir_;
  std::filesystem::path audit_;
  std::uint16_t port_ = 0;
  std::unique_ptr<net::CredentialGateway> gateway_;
  std::thread thread_;
};

struct HttpResponse {
  int status = 0;           // 0: no complete response arrived
  std::string head;         // status line and headers, with the blank line
  std::string body;         // decoded (chunks joined)
  std::string raw_body;     // as received (chunk framing included)
  bool closed = false;      // the connection ended after it
  std::string header(const std::string& name) const;  // first value, case-insensitive
};

// Reads one response from `fd` (a response to HEAD has no body). `on_body` sees each piece of the
// body as it arrives (raw, before de-chunking); returning false stops reading (status stays).
HttpResponse read_response(int fd, int timeout_ms = 10000,
                           const std::function<bool(const std::string& piece)>& on_body = nullptr);

// A POST /v1/messages request as Claude Code sends it (HTTP/1.1, JSON body); `headers` are
// extra lines "Name: value\r\n".
std::string messages_request(const std::string& host_header, const std::string& headers, bool stream,
                             const std::string& target = "/v1/messages?beta=true");

}  // namespace cc::test
