#pragma once
// The credential gateway's TLS client (OpenSSL): the system trust store plus an optional extra
// CA bundle, peer verification with the host name (or IP address) checked, SNI for names and
// TLS 1.2 at least. The handshake completes and verifies before any request byte is written,
// so an untrusted or misnamed upstream never sees the credential.
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/fd_wait.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {

// The SSL_CTX every upstream connection shares (thread-safe once built).
class TlsClientConfig {
 public:
  // Throws cc::Error (usage) when `extra_ca_pem` is not empty but holds no certificate.
  explicit TlsClientConfig(const std::string& extra_ca_pem);
  ~TlsClientConfig();
  TlsClientConfig(const TlsClientConfig&) = delete;
  TlsClientConfig& operator=(const TlsClientConfig&) = delete;
  SSL_CTX* context() const { return ctx_; }

 private:
  SSL_CTX* ctx_ = nullptr;
};

struct TlsTarget {
  std::string host;      // name or numeric address, no brackets
  bool is_address = false;
  std::uint16_t port = 443;
};

// Outcome of one non-blocking TLS read or write.
struct TlsIo {
  enum class Status { data, again, eof, error } status = Status::error;
  std::size_t bytes = 0;
};

class TlsStream {
 public:
  // Resolves, connects and handshakes by `deadline`. On failure returns null with *error set
  // to one sentence naming the upstream and the reason (certificate errors say which).
  static std::unique_ptr<TlsStream> open(const TlsClientConfig& config, const TlsTarget& target,
                                         WaitClock::time_point deadline, int wake_fd, std::string* error);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  int fd() const { return fd_.get(); }
  TlsIo try_read(char* buffer, std::size_t size);
  TlsIo try_write(const char* data, std::size_t size);
  // What to poll for before retrying the last operation that returned `again`.
  short wanted_events() const { return want_; }
  bool has_buffered() const;  // decrypted bytes waiting inside OpenSSL

  // Blocking helpers over the non-blocking socket: each waits at most until `deadline`.
  // read_some: bytes read (> 0), 0 at a clean end, -1 on error, timeout or wake-up.
  long read_some(char* buffer, std::size_t size, WaitClock::time_point deadline, int wake_fd);
  bool write_all(const char* data, std::size_t size, WaitClock::time_point deadline, int wake_fd);

  // True when the upstream closed (or sent something unasked) while the connection was idle:
  // it must not be reused.
  bool stale();

 private:
  TlsStream(UniqueFd fd, SSL* ssl) : fd_(std::move(fd)), ssl_(ssl) {}
  TlsIo finish(int ret);
  UniqueFd fd_;
  SSL* ssl_ = nullptr;
  short want_ = 0;
};

}  // namespace cc::net
