#include "net/tls_upstream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/resolver.hpp"
#include "util/error.hpp"

namespace cc::net {
namespace {

std::string openssl_errors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (out.empty()) out = buf;  // the first one is the cause; the rest repeat it
  }
  return out;
}

std::string authority(const TlsTarget& t) {
  std::string host = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
  return host + ":" + std::to_string(t.port);
}

// Connects a non-blocking socket to one of the endpoints by the deadline.
UniqueFd dial(const std::vector<Endpoint>& endpoints, WaitClock::time_point deadline, int wake_fd, std::string* why) {
  for (const auto& ep : endpoints) {
    UniqueFd fd(::socket(ep.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      *why = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ep.address), ep.length) == 0) return fd;
    if (errno != EINPROGRESS) {
      *why = std::strerror(errno);
      continue;
    }
    auto waited = wait_fd(fd.get(), POLLOUT, deadline, wake_fd);
    if (waited == WaitResult::woken) {
      *why = "the gateway is stopping";
      return UniqueFd();
    }
    if (waited == WaitResult::timeout) {
      *why = "connection timed out";
      return UniqueFd();
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return fd;
    *why = std::strerror(err);
  }
  return UniqueFd();
}

}  // namespace

TlsClientConfig::TlsClientConfig(const std::string& extra_ca_pem) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) throw Error("cannot create the gateway's TLS context: " + openssl_errors());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_default_verify_paths(ctx_);
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  ERR_clear_error();  // a missing system bundle is not fatal: the extra CA may be all there is
  if (!extra_ca_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(extra_ca_pem.data(), static_cast<int>(extra_ca_pem.size()));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      if (X509_STORE_add_cert(store, cert) == 1) ++added;
      X509_free(cert);
    }
    BIO_free(bio);
    ERR_clear_error();  // the read loop ends with a "no start line" error
    if (added == 0) {
      SSL_CTX_free(ctx_);
      ctx_ = nullptr;
      throw usage_error("credentials.ca_file holds no PEM certificate; point it at the CA certificate (PEM) that "
                        "signed the upstream's certificate");
    }
  }
}

TlsClientConfig::~TlsClientConfig() { SSL_CTX_free(ctx_); }

std::unique_ptr<TlsStream> TlsStream::open(const TlsClientConfig& config, const TlsTarget& target,
                                           WaitClock::time_point deadline, int wake_fd, std::string* error) {
  const std::string where = "the gateway could not reach upstream " + authority(target) + ": ";
  ResolveResult resolved;
  if (target.is_address) {
    Endpoint ep = numeric_endpoint(target.host, target.port);
    if (ep.length) resolved.endpoints.push_back(ep);
  } else {
    resolved = system_resolve(target.host, target.port);
  }
  if (resolved.endpoints.empty()) {
    *error = where + (resolved.error.empty() ? "no address" : resolved.error) + "; check credentials.upstream";
    return nullptr;
  }
  std::string why;
  UniqueFd fd = dial(resolved.endpoints, deadline, wake_fd, &why);
  if (!fd) {
    *error = where + why + "; check credentials.upstream and the host's network";
    return nullptr;
  }
  SSL* ssl = SSL_new(config.context());
  if (!ssl) {
    *error = where + "cannot create a TLS session: " + openssl_errors();
    return nullptr;
  }
  std::unique_ptr<TlsStream> stream(new TlsStream(std::move(fd), ssl));
  SSL_set_fd(ssl, stream->fd());
  if (target.is_address) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), target.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, target.host.c_str());
    SSL_set1_host(ssl, target.host.c_str());
  }
  while (true) {
    ERR_clear_error();
    int ret = SSL_connect(ssl);
    if (ret == 1) break;
    int err = SSL_get_error(ssl, ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      auto waited = wait_fd(stream->fd(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, wake_fd);
      if (waited == WaitResult::ready) continue;
      *error = where + (waited == WaitResult::timeout ? "the TLS handshake timed out" : "the gateway is stopping");
      return nullptr;
    }
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      *error = "the gateway refused upstream " + authority(target) + ": certificate verify failed (" +
               X509_verify_cert_error_string(verify) +
               "); nothing was sent. If this upstream is meant to be trusted, set credentials.ca_file to the PEM "
               "certificate of the CA that signed it; otherwise fix credentials.upstream";
      return nullptr;
    }
    std::string detail = openssl_errors();
    if (detail.empty()) detail = err == SSL_ERROR_SYSCALL ? "the connection was closed during the handshake" : "handshake failed";
    *error = "the gateway refused upstream " + authority(target) + ": TLS handshake failed (" + detail +
             "); nothing was sent. The upstream must offer TLS 1.2 or newer";
    return nullptr;
  }
  return stream;
}

TlsStream::~TlsStream() {
  if (ssl_) SSL_free(ssl_);  // no close_notify: the socket closes with the stream
}

TlsIo TlsStream::finish(int ret) {
  TlsIo io;
  if (ret > 0) {
    io.status = TlsIo::Status::data;
    io.bytes = static_cast<std::size_t>(ret);
    return io;
  }
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    want_ = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    io.status = TlsIo::Status::again;
  } else if (err == SSL_ERROR_ZERO_RETURN) {
    io.status = TlsIo::Status::eof;
  } else {
    io.status = TlsIo::Status::error;
  }
  ERR_clear_error();
  return io;
}

TlsIo TlsStream::try_read(char* buffer, std::size_t size) {
  ERR_clear_error();
  return finish(SSL_read(ssl_, buffer, static_cast<int>(std::min<std::size_t>(size, 1 << 30))));
}

TlsIo TlsStream::try_write(const char* data, std::size_t size) {
  ERR_clear_error();
  return finish(SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, 1 << 30))));
}

bool TlsStream::has_buffered() const { return SSL_pending(ssl_) > 0; }

long TlsStream::read_some(char* buffer, std::size_t size, WaitClock::time_point deadline, int wake_fd) {
  while (true) {
    TlsIo io = try_read(buffer, size);
    if (io.status == TlsIo::Status::data) return static_cast<long>(io.bytes);
    if (io.status == TlsIo::Status::eof) return 0;
    if (io.status == TlsIo::Status::error) return -1;
    if (wait_fd(fd(), want_, deadline, wake_fd) != WaitResult::ready) return -1;
  }
}

bool TlsStream::write_all(const char* data, std::size_t size, WaitClock::time_point deadline, int wake_fd) {
  std::size_t done = 0;
  while (done < size) {
    TlsIo io = try_write(data + done, size - done);
    if (io.status == TlsIo::Status::data) {
      done += io.bytes;
      continue;
    }
    if (io.status != TlsIo::Status::again) return false;
    if (wait_fd(fd(), want_, deadline, wake_fd) != WaitResult::ready) return false;
  }
  return true;
}

bool TlsStream::stale() {
  if (has_buffered()) return true;
  pollfd p{fd(), POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  // Readable while idle: a close, or records such as TLS 1.3 session tickets. Only the latter
  // leave the connection usable.
  char byte;
  TlsIo io = try_read(&byte, 1);
  return io.status != TlsIo::Status::again;
}

}  // namespace cc::net
