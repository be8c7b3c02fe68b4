#pragma once
// A stand-in of the Anthropic Messages API for the credential gateway's tests and benchmark,
// and for running the real Claude Code CLI against the gateway without internet.
//
// It serves HTTPS on 127.0.0.1 (an ephemeral port) with a certificate from a test CA made with
// OpenSSL at start; ca_file() is that CA in PEM, for credentials.ca_file. Connections are kept
// alive. Each request is recorded (method, target, headers, body size and first bytes).
//
//   POST /v1/messages               JSON body (up to 16 MiB is parsed) with "stream": true: a streamed reply as server-sent
//                                   events (message_start, content_block_start, ping,
//                                   content_block_delta text_delta per word, content_block_stop,
//                                   message_delta with stop_reason end_turn and usage,
//                                   message_stop), chunked; otherwise one JSON message object.
//   POST /v1/messages/count_tokens  {"input_tokens": 42}
//   anything else                   404 with Anthropic's not_found_error JSON
//
// set_status(401) (or 429, 500, 529, ...) makes every /v1/messages* request fail with that
// status and Anthropic's error JSON. hold_streams(true) stops each stream after its first event
// (message_start) until release_streams(), so a test can see that event arrive before the rest
// exists. Query strings (?beta=true) are accepted and recorded.
//
//   MessagesStandIn api;            // or MessagesStandIn api(StandInCert::untrusted_ca)
//   api.start();
//   options.upstream = "https://127.0.0.1:" + std::to_string(api.port());
//   options.extra_ca_pem = api.ca_pem();   // or read api.ca_file()
//   ... api.requests()[0].header("x-api-key") ...
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/net_upstream.hpp"
#include "support/temp_dir.hpp"

namespace cc::test {

enum class StandInCert {
  trusted,       // signed by the CA in ca_file(), names IP:127.0.0.1 and DNS:localhost
  wrong_name,    // signed by the CA in ca_file(), but names only DNS:wrong-name.invalid
  untrusted_ca,  // names 127.0.0.1 and localhost, signed by a CA that is NOT the one in ca_file()
  tls11_only,    // trusted and correctly named, but the server speaks TLS 1.1 at most
};

struct StandInRequest {
  std::string method;
  std::string target;                                        // as sent, with the query
  std::string path;                                          // without the query
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, in order
  std::uint64_t body_bytes = 0;                              // decoded (chunked or not)
  std::string body_start;                                    // the first 64 KiB of the body
  // The first value of a header (case-insensitive name), "" when absent.
  std::string header(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
};

class MessagesStandIn {
 public:
  explicit MessagesStandIn(StandInCert cert = StandInCert::trusted);
  ~MessagesStandIn();
  MessagesStandIn(const MessagesStandIn&) = delete;
  MessagesStandIn& operator=(const MessagesStandIn&) = delete;

  void start();                                   // listens; port() is valid afterwards
  std::uint16_t port() const;
  const std::filesystem::path& ca_file() const { return ca_file_; }
  const std::string& ca_pem() const { return ca_pem_; }

  std::vector<StandInRequest> requests() const;   // a copy, in arrival order
  int connections() const;                        // TCP connections accepted (handshake or not)
  int handshakes() const;                         // TLS handshakes that completed

  void set_reply(std::string text);               // default "Hello from the stand-in."
  void set_status(int status);                    // 200 (default): answer normally
  void hold_streams(bool hold);
  void release_streams();

 private:
  struct State;
  void serve(int fd);
  void serve_requests(SSL* ssl);
  TempDir dir_;
  std::filesystem::path ca_file_;
  std::string ca_pem_;
  std::unique_ptr<TestCa> served_;   // the certificate the server presents
  std::unique_ptr<TestCa> trusted_;  // the CA written to ca_file (same as served_ unless untrusted)
  SSL_CTX* tls11_ctx_ = nullptr;     // for tls11_only
  std::shared_ptr<State> state_;
  std::unique_ptr<LoopbackServer> server_;
};

}  // namespace cc::test
