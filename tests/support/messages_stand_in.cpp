#include "support/messages_stand_in.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace cc::test {
namespace {

constexpr std::size_t kKeptBody = 64 * 1024;      // recorded in StandInRequest::body_start
// Claude Code's requests carry its system prompt and tool definitions (well over 64 KiB): the
// body is parsed as JSON up to this size, larger ones are only counted.
constexpr std::size_t kParsedBody = 16 << 20;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Buffered reading over one TLS session (blocking socket with a receive timeout).
class TlsReader {
 public:
  explicit TlsReader(SSL* ssl) : ssl_(ssl) {}
  // A line without its CRLF; false at the end of the stream or when longer than `limit`.
  bool line(std::string* out, std::size_t limit = 64 * 1024) {
    out->clear();
    while (true) {
      auto nl = buffer_.find('\n', offset_);
      if (nl != std::string::npos) {
        out->assign(buffer_, offset_, nl - offset_);
        offset_ = nl + 1;
        if (!out->empty() && out->back() == '\r') out->pop_back();
        return true;
      }
      if (buffer_.size() - offset_ > limit || !fill()) return false;
    }
  }
  // Passes exactly n bytes to sink(data, size).
  template <typename Sink>
  bool exact(std::uint64_t n, Sink&& sink) {
    while (n > 0) {
      if (offset_ == buffer_.size() && !fill()) return false;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, buffer_.size() - offset_));
      sink(buffer_.data() + offset_, take);
      offset_ += take;
      n -= take;
    }
    return true;
  }

 private:
  bool fill() {
    if (offset_ > 0) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
    char chunk[64 * 1024];
    int n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  SSL* ssl_;
  std::string buffer_;
  std::size_t offset_ = 0;
};

bool write_all(SSL* ssl, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    int n = SSL_write(ssl, data.data() + done, static_cast<int>(data.size() - done));
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return "api_error";
  }
}

std::string error_message(int status) {
  switch (status) {
    case 401: return "invalid x-api-key";
    case 404: return "Not found";
    case 429: return "Number of request tokens has exceeded your rate limit";
    case 529: return "Overloaded";
    default: return "Internal server error";
  }
}

std::string reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 529: return "Overloaded";
    default: return "Error";
  }
}

std::string json_response(int status, const std::string& body, int request_number) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
         "\r\ncontent-type: application/json\r\nrequest-id: req_standin_" + std::to_string(request_number) +
         "\r\ncontent-length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string sse_event(const std::string& type, const nlohmann::ordered_json& data) {
  std::string event = "event: " + type + "\ndata: " + data.dump() + "\n\n";
  std::ostringstream chunk;
  chunk << std::hex << event.size() << "\r\n" << event << "\r\n";
  return chunk.str();
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t space = text.find(' ', start + 1);
    out.push_back(text.substr(start, space == std::string::npos ? std::string::npos : space - start));
    start = space == std::string::npos ? text.size() : space;
  }
  return out;
}

std::string pem_of(const TestCa& ca) { return ca.ca_pem(); }

}  // namespace

std::string StandInRequest::header(std::string_view name) const {
  std::string wanted = lower(std::string(name));
  for (const auto& [n, v] : headers)
    if (lower(n) == wanted) return v;
  return "";
}

std::size_t StandInRequest::header_count(std::string_view name) const {
  std::string wanted = lower(std::string(name));
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return lower(h.first) == wanted; }));
}

struct MessagesStandIn::State {
  mutable std::mutex mutex;
  std::condition_variable released;
  std::vector<StandInRequest> requests;
  std::string reply = "Hello from the stand-in.";
  int status = 200;
  bool hold = false;
  std::uint64_t release_generation = 0;
  bool closing = false;
  std::atomic<int> handshakes{0};
  std::atomic<int> numbered{0};
};

MessagesStandIn::MessagesStandIn(StandInCert cert) : dir_("cc-standin"), state_(std::make_shared<State>()) {
  const std::vector<std::string> good_names = {"127.0.0.1", "localhost"};
  switch (cert) {
    case StandInCert::trusted:
    case StandInCert::tls11_only:
      served_ = std::make_unique<TestCa>(good_names);
      break;
    case StandInCert::wrong_name:
      served_ = std::make_unique<TestCa>(std::vector<std::string>{"wrong-name.invalid"});
      break;
    case StandInCert::untrusted_ca:
      served_ = std::make_unique<TestCa>(good_names);
      trusted_ = std::make_unique<TestCa>(good_names);
      break;
  }
  ca_pem_ = pem_of(trusted_ ? *trusted_ : *served_);
  ca_file_ = dir_ / "stand-in-ca.pem";
  std::ofstream(ca_file_) << ca_pem_;
  if (cert == StandInCert::tls11_only) {
    tls11_ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_security_level(tls11_ctx_, 0);  // TLS 1.1 needs SHA-1 signatures
    SSL_CTX_set_min_proto_version(tls11_ctx_, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(tls11_ctx_, TLS1_1_VERSION);
    SSL_CTX_use_certificate(tls11_ctx_, SSL_CTX_get0_certificate(served_->server_context()));
    SSL_CTX_use_PrivateKey(tls11_ctx_, SSL_CTX_get0_privatekey(served_->server_context()));
  }
}

MessagesStandIn::~MessagesStandIn() {
  {
    std::lock_guard lock(state_->mutex);
    state_->closing = true;
  }
  state_->released.notify_all();
  server_.reset();  // shuts every connection down and joins its thread
  if (tls11_ctx_) SSL_CTX_free(tls11_ctx_);
}

void MessagesStandIn::start() {
  if (server_) return;
  server_ = std::make_unique<LoopbackServer>([this](int fd) { serve(fd); });
}

std::uint16_t MessagesStandIn::port() const { return server_ ? server_->port() : 0; }

std::vector<StandInRequest> MessagesStandIn::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

int MessagesStandIn::connections() const { return server_ ? server_->accepted() : 0; }
int MessagesStandIn::handshakes() const { return state_->handshakes.load(); }

void MessagesStandIn::set_reply(std::string text) {
  std::lock_guard lock(state_->mutex);
  state_->reply = std::move(text);
}

void MessagesStandIn::set_status(int status) {
  std::lock_guard lock(state_->mutex);
  state_->status = status;
}

void MessagesStandIn::hold_streams(bool hold) {
  std::lock_guard lock(state_->mutex);
  state_->hold = hold;
}

void MessagesStandIn::release_streams() {
  {
    std::lock_guard lock(state_->mutex);
    ++state_->release_generation;
  }
  state_->released.notify_all();
}

void MessagesStandIn::serve(int fd) {
  // SSL_write to a client that went away must fail with EPIPE, not kill the test process.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  timeval tv{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(tls11_ctx_ ? tls11_ctx_ : served_->server_context());
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  state_->handshakes.fetch_add(1);
  try {
    serve_requests(ssl);
  } catch (...) {
    // A request the stand-in cannot read (bad numbers in its head): drop the connection.
  }
  ERR_clear_error();
  SSL_free(ssl);
}

void MessagesStandIn::serve_requests(SSL* ssl) {
  TlsReader reader(ssl);
  State& state = *state_;
  while (true) {
    StandInRequest request;
    std::string line;
    if (!reader.line(&line) || line.empty()) break;
    auto sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) break;
    request.method = line.substr(0, sp1);
    request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    request.path = request.target.substr(0, request.target.find('?'));
    bool chunked = false;
    std::uint64_t length = 0;
    bool headers_ok = true;
    while (true) {
      if (!reader.line(&line)) { headers_ok = false; break; }
      if (line.empty()) break;
      auto colon = line.find(':');
      if (colon == std::string::npos) { headers_ok = false; break; }
      std::string name = line.substr(0, colon), value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      std::string n = lower(name);
      if (n == "content-length") length = std::stoull(value);
      if (n == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) chunked = true;
      request.headers.emplace_back(name, value);
    }
    if (!headers_ok) break;
    std::string parsed_body;
    auto sink = [&](const char* data, std::size_t size) {
      if (parsed_body.size() < kParsedBody) parsed_body.append(data, std::min(size, kParsedBody - parsed_body.size()));
      if (request.body_start.size() < kKeptBody)
        request.body_start.append(data, std::min(size, kKeptBody - request.body_start.size()));
      request.body_bytes += size;
    };
    bool body_ok = true;
    if (chunked) {
      while (body_ok) {
        if (!reader.line(&line)) { body_ok = false; break; }
        std::uint64_t size = std::stoull(line.substr(0, line.find(';')), nullptr, 16);
        if (size == 0) {
          do body_ok = reader.line(&line);  // trailers up to the empty line
          while (body_ok && !line.empty());
          break;
        }
        body_ok = reader.exact(size, sink) && reader.line(&line);
      }
    } else {
      body_ok = reader.exact(length, sink);
    }
    if (!body_ok) break;

    int number = ++state.numbered;
    std::string reply;
    int status;
    bool hold;
    std::uint64_t generation;
    {
      std::lock_guard lock(state.mutex);
      state.requests.push_back(request);
      reply = state.reply;
      status = state.status;
      hold = state.hold;
      generation = state.release_generation;
    }
    auto body = request.body_bytes <= kParsedBody ? nlohmann::json::parse(parsed_body, nullptr, false)
                                                  : nlohmann::json(nullptr);
    parsed_body.clear();
    parsed_body.shrink_to_fit();
    bool stream = body.is_object() && body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
    std::string model = body.is_object() && body.contains("model") && body["model"].is_string()
                            ? body["model"].get<std::string>()
                            : "claude-sonnet-4-5";
    bool messages = request.method == "POST" && request.path == "/v1/messages";
    bool count_tokens = request.method == "POST" && request.path == "/v1/messages/count_tokens";
    std::string id = "msg_standin_" + std::to_string(number);
    bool ok = true;
    if ((messages || count_tokens) && status != 200) {
      nlohmann::ordered_json error = {{"type", "error"},
                              {"error", {{"type", error_type(status)}, {"message", error_message(status)}}}};
      ok = write_all(ssl, json_response(status, error.dump(), number));
    } else if (count_tokens) {
      ok = write_all(ssl, json_response(200, R"({"input_tokens":42})", number));
    } else if (messages && !stream) {
      nlohmann::ordered_json message = {{"id", id},
                                {"type", "message"},
                                {"role", "assistant"},
                                {"model", model},
                                {"content", {{{"type", "text"}, {"text", reply}}}},
                                {"stop_reason", "end_turn"},
                                {"stop_sequence", nullptr},
                                {"usage", {{"input_tokens", 12}, {"output_tokens", words_of(reply).size()}}}};
      ok = write_all(ssl, json_response(200, message.dump(), number));
    } else if (messages) {
      std::string head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                         "cache-control: no-cache\r\nrequest-id: req_standin_" +
                         std::to_string(number) + "\r\ntransfer-encoding: chunked\r\n\r\n";
      nlohmann::ordered_json start = {
          {"type", "message_start"},
          {"message",
           {{"id", id},
            {"type", "message"},
            {"role", "assistant"},
            {"model", model},
            {"content", nlohmann::ordered_json::array()},
            {"stop_reason", nullptr},
            {"stop_sequence", nullptr},
            {"usage", {{"input_tokens", 12}, {"output_tokens", 1}}}}}};
      ok = write_all(ssl, head + sse_event("message_start", start));
      if (ok && hold) {
        std::unique_lock lock(state.mutex);
        state.released.wait_for(lock, std::chrono::seconds(60),
                                [&] { return state.closing || state.release_generation != generation; });
      }
      ok = ok && write_all(ssl, sse_event("content_block_start", {{"type", "content_block_start"},
                                                                  {"index", 0},
                                                                  {"content_block", {{"type", "text"}, {"text", ""}}}}));
      ok = ok && write_all(ssl, sse_event("ping", {{"type", "ping"}}));
      for (const auto& word : words_of(reply)) {
        if (!ok) break;
        ok = write_all(ssl, sse_event("content_block_delta", {{"type", "content_block_delta"},
                                                              {"index", 0},
                                                              {"delta", {{"type", "text_delta"}, {"text", word}}}}));
      }
      ok = ok && write_all(ssl, sse_event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}));
      ok = ok && write_all(ssl, sse_event("message_delta",
                                          {{"type", "message_delta"},
                                           {"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                                           {"usage", {{"output_tokens", words_of(reply).size()}}}}));
      ok = ok && write_all(ssl, sse_event("message_stop", {{"type", "message_stop"}}) + "0\r\n\r\n");
    } else {
      nlohmann::ordered_json error = {{"type", "error"}, {"error", {{"type", "not_found_error"}, {"message", "Not found"}}}};
      ok = write_all(ssl, json_response(404, error.dump(), number));
    }
    if (!ok) break;
  }
}

}  // namespace cc::test
