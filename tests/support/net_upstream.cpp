#include "support/net_upstream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace cc::test {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

}  // namespace

LoopbackServer::LoopbackServer(Handler handler, bool ipv6, bool any_address) : handler_(std::move(handler)) {
  listener_ = UniqueFd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = any_address ? in6addr_any : in6addr_loopback;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(any_address ? INADDR_ANY : INADDR_LOOPBACK);
    len = sizeof *a;
  }
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(listener_.get(), 1024) != 0)
    throw std::runtime_error(std::string("bind/listen failed: ") + std::strerror(errno));
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  stop_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  thread_ = std::thread([this] { accept_loop(); });
}

LoopbackServer::~LoopbackServer() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(stop_.get(), &one, sizeof one);
  thread_.join();
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_) t.join();
}

void LoopbackServer::accept_loop() {
  while (true) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++accepted_;
    std::lock_guard lock(mutex_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] {
      handler_(fd);
      std::lock_guard inner(mutex_);
      for (auto& f : open_fds_)
        if (f == fd) f = -1;
      ::close(fd);
    });
  }
}

std::string read_http_head(int fd, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < (1 << 20)) {
    if (!wait_for(fd, POLLIN, deadline)) return "";
    char c[4096];
    // Peek first, then consume only up to the end of the head so the body stays readable.
    ssize_t n = ::recv(fd, c, sizeof c, MSG_PEEK);
    if (n <= 0) return "";
    std::string probe = head + std::string(c, static_cast<size_t>(n));
    auto end = probe.find("\r\n\r\n");
    size_t take = end == std::string::npos ? static_cast<size_t>(n) : end + 4 - head.size();
    n = ::recv(fd, c, take, 0);
    if (n <= 0) return "";
    head.append(c, static_cast<size_t>(n));
  }
  return head;
}

LoopbackServer::Handler http_handler(std::string body, std::shared_ptr<HttpRecorder> recorder) {
  return [body = std::move(body), recorder = std::move(recorder)](int fd) {
    std::string head = read_http_head(fd);
    if (head.empty()) return;
    std::string request_body;
    // Read a Content-Length body if there is one (tests send small ones).
    auto pos = head.find("Content-Length: ");
    if (pos != std::string::npos) {
      size_t length = std::stoul(head.substr(pos + 16));
      auto deadline = Clock::now() + std::chrono::seconds(5);
      while (request_body.size() < length && wait_for(fd, POLLIN, deadline)) {
        char buf[4096];
        ssize_t n = ::recv(fd, buf, std::min(sizeof buf, length - request_body.size()), 0);
        if (n <= 0) break;
        request_body.append(buf, static_cast<size_t>(n));
      }
    }
    if (recorder) {
      std::lock_guard lock(recorder->mutex);
      recorder->heads.push_back(head);
      recorder->bodies.push_back(request_body);
    }
    std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n" + body;
    send_all(fd, response);
    ::shutdown(fd, SHUT_WR);
    read_until_close(fd, 2000);
  };
}

LoopbackServer::Handler echo_handler() {
  return [](int fd) {
    char buf[65536];
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (wait_for(fd, POLLIN, deadline)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (!send_all(fd, std::string(buf, static_cast<size_t>(n)), 30000)) return;
    }
    ::shutdown(fd, SHUT_WR);
  };
}

// ---- TLS ----

namespace {

EVP_PKEY* make_key() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_keygen_init(ctx);
  EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1);
  EVP_PKEY_keygen(ctx, &key);
  EVP_PKEY_CTX_free(ctx);
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) throw std::runtime_error("cannot build certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca, const std::string& san,
                long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509* iss = issuer ? issuer : cert;
  if (ca) {
    add_ext(cert, iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert, iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert, iss, NID_ext_key_usage, "serverAuth");
    add_ext(cert, iss, NID_subject_alt_name, san.c_str());
  }
  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

}  // namespace

TestCa::TestCa(const std::vector<std::string>& names) {
  EVP_PKEY* ca_key = make_key();
  X509* ca = make_cert(ca_key, "claude-container test CA", nullptr, nullptr, true, "", 1);
  EVP_PKEY* leaf_key = make_key();
  std::string san;
  for (const auto& n : names) {
    in6_addr a6;
    in_addr a4;
    bool ip = inet_pton(AF_INET, n.c_str(), &a4) == 1 || inet_pton(AF_INET6, n.c_str(), &a6) == 1;
    san += (san.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + n;
  }
  X509* leaf = make_cert(leaf_key, names.empty() ? "localhost" : names[0].c_str(), ca, ca_key, false, san, 2);

  server_ = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(server_, leaf);
  SSL_CTX_use_PrivateKey(server_, leaf_key);
  client_ = SSL_CTX_new(TLS_client_method());
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_), ca);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, ca);
  char* pem = nullptr;
  long pem_len = BIO_get_mem_data(bio, &pem);
  ca_pem_.assign(pem, static_cast<size_t>(pem_len));
  BIO_free(bio);
  SSL_CTX_set_verify(client_, SSL_VERIFY_PEER, nullptr);
  X509_free(leaf);
  X509_free(ca);
  EVP_PKEY_free(leaf_key);
  EVP_PKEY_free(ca_key);
}

TestCa::~TestCa() {
  SSL_CTX_free(server_);
  SSL_CTX_free(client_);
}

LoopbackServer::Handler https_handler(const TestCa& ca, std::string body) {
  SSL_CTX* ctx = ca.server_context();
  return [ctx, body = std::move(body)](int fd) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n" + body;
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  };
}

std::string https_get(int fd, const TestCa& ca, const std::string& host, std::string* error) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(ca.client_context());
  SSL_set_fd(ssl, fd);
  in6_addr a6;
  in_addr a4;
  bool ip = inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
  if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (ip) X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  else X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  std::string out;
  if (SSL_connect(ssl) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    *error = std::string("TLS handshake failed: ") + buf;
    SSL_free(ssl);
    return "";
  }
  std::string request = "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  SSL_write(ssl, request.data(), static_cast<int>(request.size()));
  char buf[4096];
  int n;
  while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  SSL_free(ssl);
  return out;
}

// ---- client helpers ----

UniqueFd connect_tcp(const std::string& address, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len;
  int family;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = family = AF_INET;
    a4->sin_port = htons(port);
    len = sizeof *a4;
  } else if (inet_pton(AF_INET6, address.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = family = AF_INET6;
    a6->sin6_port = htons(port);
    len = sizeof *a6;
  } else {
    return UniqueFd();
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return UniqueFd();
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool send_all(int fd, const std::string& data, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
      continue;
    }
    return false;
  }
  return true;
}

std::string read_until_close(int fd, int timeout_ms, std::size_t limit) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string out;
  char buf[65536];
  while (out.size() < limit && wait_for(fd, POLLIN, deadline)) {
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, limit - out.size()), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_head(int fd, int timeout_ms) { return read_http_head(fd, timeout_ms); }

bool closed_by_peer(int fd, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (wait_for(fd, POLLIN, deadline)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;
  }
  return false;
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

UniqueFd listen_on_loopback(std::uint16_t* port, const std::string& what) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(listener.get(), 1024) != 0)
    throw std::runtime_error("cannot listen for the " + what);
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return listener;
}

std::vector<nlohmann::json> audit_records_in(const std::filesystem::path& log, std::size_t at_least, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::vector<nlohmann::json> out;
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    if (out.size() >= at_least || std::chrono::steady_clock::now() >= deadline) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace cc::test
