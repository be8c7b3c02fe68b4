#include "support/net_gateway_harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/net_upstream.hpp"

namespace cc::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Buffered reads from a plain socket with one deadline.
class Reader {
 public:
  Reader(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}
  // Appends what arrives to buffer; false at EOF, error or deadline.
  bool fill() {
    char chunk[65536];
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, left < 0 ? 0 : static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      ssize_t got = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        eof_ = got == 0;
        return false;
      }
      buffer.append(chunk, static_cast<std::size_t>(got));
      return true;
    }
  }
  bool eof() const { return eof_; }
  std::string buffer;

 private:
  int fd_;
  Clock::time_point deadline_;
  bool eof_ = false;
};

}  // namespace

GatewayHarness::GatewayHarness(net::GatewayOptions options) : dir_("cc-net-gateway"), audit_(dir_ / "network.jsonl") {
  UniqueFd listener = listen_on_loopback(&port_, "gateway");
  options.listeners.clear();
  options.listeners.push_back(std::move(listener));
  options.audit_log = audit_;
  gateway_ = std::make_unique<net::CredentialGateway>(std::move(options));
  thread_ = std::thread([this] { gateway_->run(); });
}

GatewayHarness::~GatewayHarness() {
  gateway_->stop();
  thread_.join();
}

std::vector<nlohmann::json> GatewayHarness::audit_records(std::size_t at_least, int timeout_ms) const {
  return audit_records_in(audit_, at_least, timeout_ms);
}

std::string GatewayHarness::audit_text() const {
  std::ifstream in(audit_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

UniqueFd GatewayHarness::connect() const { return connect_tcp("127.0.0.1", port_); }

std::string GatewayHarness::exchange(const std::string& raw, int timeout_ms) const {
  UniqueFd fd = connect();
  if (!fd) return "";
  send_all(fd.get(), raw);
  return read_until_close(fd.get(), timeout_ms);
}

std::string HttpResponse::header(const std::string& name) const {
  std::istringstream lines(head);
  std::string line, wanted = lower(name) + ":";
  while (std::getline(lines, line)) {
    if (lower(line.substr(0, wanted.size())) != wanted) continue;
    std::string value = line.substr(wanted.size());
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    return value;
  }
  return "";
}

HttpResponse read_response(int fd, int timeout_ms, const std::function<bool(const std::string&)>& on_body) {
  HttpResponse r;
  Reader in(fd, Clock::now() + std::chrono::milliseconds(timeout_ms));
  // Head (skipping interim 1xx responses).
  while (true) {
    auto end = in.buffer.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (!in.fill()) {
        r.closed = true;
        return r;
      }
      continue;
    }
    r.head = in.buffer.substr(0, end + 4);
    in.buffer.erase(0, end + 4);
    r.status = status_of(r.head);
    if (r.status >= 200) break;
  }
  int status = r.status;
  r.status = 0;
  auto deliver = [&](const std::string& piece) {
    r.raw_body += piece;
    return !on_body || on_body(piece);
  };
  std::string te = lower(r.header("transfer-encoding"));
  std::string length = r.header("content-length");
  if (status == 204 || status == 304) {
    // no body
  } else if (te.find("chunked") != std::string::npos) {
    std::size_t pos = 0;  // parse position in raw_body
    while (true) {
      if (!in.buffer.empty()) {
        std::string piece;
        piece.swap(in.buffer);
        if (!deliver(piece)) return r;
      }
      // Decode as far as possible.
      bool finished = false;
      while (true) {
        auto nl = r.raw_body.find("\r\n", pos);
        if (nl == std::string::npos) break;
        std::size_t size = std::stoul(r.raw_body.substr(pos, nl - pos), nullptr, 16);
        if (size == 0) {
          finished = r.raw_body.find("\r\n\r\n", nl) != std::string::npos;  // after any trailers
          break;
        }
        if (r.raw_body.size() < nl + 2 + size + 2) break;
        r.body += r.raw_body.substr(nl + 2, size);
        pos = nl + 2 + size + 2;
      }
      if (finished) break;
      if (!in.fill()) {
        r.closed = true;
        return r;
      }
    }
  } else if (!length.empty()) {
    std::size_t want = std::stoul(length);
    while (r.raw_body.size() < want) {
      if (!in.buffer.empty()) {
        std::string piece = in.buffer.substr(0, want - r.raw_body.size());
        in.buffer.clear();
        if (!deliver(piece)) return r;
        continue;
      }
      if (!in.fill()) {
        r.closed = true;
        return r;
      }
    }
    r.body = r.raw_body;
  } else {
    while (true) {
      if (!in.buffer.empty()) {
        std::string piece;
        piece.swap(in.buffer);
        if (!deliver(piece)) return r;
      }
      if (!in.fill()) break;
    }
    r.body = r.raw_body;
    r.closed = in.eof();
    if (!r.closed) return r;
  }
  r.status = status;
  if (lower(r.header("connection")) == "close") r.closed = true;
  return r;
}

std::string messages_request(const std::string& host_header, const std::string& headers, bool stream,
                             const std::string& target) {
  std::string body = std::string(R"({"model":"claude-sonnet-4-5","max_tokens":64,"stream":)") +
                     (stream ? "true" : "false") + R"(,"messages":[{"role":"user","content":"say hi"}]})";
  return "POST " + target + " HTTP/1.1\r\nHost: " + host_header +
         "\r\ncontent-type: application/json\r\nanthropic-version: 2023-06-01\r\n" + headers +
         "content-length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace cc::test
