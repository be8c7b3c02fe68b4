#pragma once
// Loopback servers and clients for the egress proxy's tests and benchmarks: a TCP server whose
// connections a handler serves on their own threads, plain HTTP and TLS (test CA made with
// OpenSSL at run time) handlers, and bounded, poll-based client helpers. Every wait has a
// deadline, so a broken proxy fails a test instead of hanging it.
#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/unique_fd.hpp"

namespace cc::test {

// Listens on 127.0.0.1 (or ::1) on an ephemeral port; each accepted connection runs
// handler(fd) on its own thread. The destructor shuts every connection down and joins.
class LoopbackServer {
 public:
  using Handler = std::function<void(int fd)>;
  // `any_address`: bind 0.0.0.0 / :: instead of loopback (a host service on every interface).
  explicit LoopbackServer(Handler handler, bool ipv6 = false, bool any_address = false);
  ~LoopbackServer();
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void accept_loop();
  Handler handler_;
  UniqueFd listener_;
  UniqueFd stop_;  // eventfd
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
  std::atomic<int> accepted_{0};
};

// Reads one HTTP request head (up to the blank line) with a deadline; empty on failure.
std::string read_http_head(int fd, int timeout_ms = 5000);
// Answers every connection's first request with 200 and `body`, stores the request head.
struct HttpRecorder {
  std::mutex mutex;
  std::vector<std::string> heads;
  std::vector<std::string> bodies;
};
LoopbackServer::Handler http_handler(std::string body, std::shared_ptr<HttpRecorder> recorder = nullptr);
// Echoes bytes back until the peer half-closes, then closes.
LoopbackServer::Handler echo_handler();

// A throwaway certificate authority and a server certificate it signed for `names` (DNS names
// or IP addresses), generated in memory.
class TestCa {
 public:
  explicit TestCa(const std::vector<std::string>& names);
  ~TestCa();
  SSL_CTX* server_context() const { return server_; }
  SSL_CTX* client_context() const { return client_; }  // trusts only this CA, verifies names
  const std::string& ca_pem() const { return ca_pem_; }  // for clients outside this process

 private:
  SSL_CTX* server_ = nullptr;
  SSL_CTX* client_ = nullptr;
  std::string ca_pem_;
};
// TLS server handler: handshake, read one request head, answer 200 with `body`.
LoopbackServer::Handler https_handler(const TestCa& ca, std::string body);
// Client: TLS over the already-connected (tunnelled) fd, verifying `host`; sends a GET and
// returns the whole response, or "" with *error set.
std::string https_get(int fd, const TestCa& ca, const std::string& host, std::string* error);

// Client helpers.
UniqueFd connect_tcp(const std::string& address, std::uint16_t port);  // blocking, invalid on failure
// A non-blocking listener on an ephemeral 127.0.0.1 port (the harnesses' proxy and gateway
// sockets); throws std::runtime_error naming `what` when it cannot listen.
UniqueFd listen_on_loopback(std::uint16_t* port, const std::string& what);
// The audit log's JSON lines, re-read until at least `at_least` are there or the time is up.
std::vector<nlohmann::json> audit_records_in(const std::filesystem::path& log, std::size_t at_least, int timeout_ms);
bool send_all(int fd, const std::string& data, int timeout_ms = 5000);
// Reads until the peer closes, `limit` bytes arrive, or the deadline; returns what arrived.
std::string read_until_close(int fd, int timeout_ms = 5000, std::size_t limit = 64 << 20);
// Reads until "\r\n\r\n" (a response head) or the deadline.
std::string read_head(int fd, int timeout_ms = 5000);
// True when the peer closed the connection (EOF or reset) within the deadline.
bool closed_by_peer(int fd, int timeout_ms);
// Status code of an HTTP response ("HTTP/1.1 403 ..." -> 403), 0 when none.
int status_of(const std::string& response);

}  // namespace cc::test
