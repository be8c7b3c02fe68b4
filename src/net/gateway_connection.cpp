#include "net/gateway_connection.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <utility>

#include "net/http_request.hpp"
#include "net/http_response.hpp"

namespace cc::net {
namespace {

constexpr std::size_t kBufferBytes = 64 * 1024;
constexpr std::size_t kMaxResponseHead = 64 * 1024;

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

WaitClock::time_point after(int seconds) { return WaitClock::now() + std::chrono::seconds(seconds); }

enum class Recv { data, eof, timeout, failed };

class Connection {
 public:
  Connection(UniqueFd client, GatewayContext& context) : client_(std::move(client)), ctx_(context) {}

  void serve() {
    bool first = true;
    while (true) {
      ParseResult parsed;
      if (!read_head(first, &parsed)) return;
      first = false;
      if (!exchange(parsed)) return;
    }
  }

 private:
  enum class Body { complete, early_response, upstream_failed, client_gone, bad_chunked, client_timeout, upstream_timeout };

  // ---- client socket ----

  Recv client_recv(char* buffer, std::size_t size, WaitClock::time_point deadline, std::size_t* got) {
    while (true) {
      ssize_t n = ::recv(client_.get(), buffer, size, MSG_DONTWAIT);
      if (n > 0) {
        *got = static_cast<std::size_t>(n);
        return Recv::data;
      }
      if (n == 0) return Recv::eof;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Recv::failed;
      auto waited = wait_fd(client_.get(), POLLIN, deadline, ctx_.wake_fd);
      if (waited == WaitResult::timeout) return Recv::timeout;
      if (waited == WaitResult::woken) return Recv::failed;
    }
  }

  bool client_send(const std::string& data) {
    auto deadline = after(ctx_.limits.idle_timeout_seconds);
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(client_.get(), data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
        bytes_in_ += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (wait_fd(client_.get(), POLLOUT, deadline, ctx_.wake_fd) != WaitResult::ready) return false;
        continue;
      }
      return false;
    }
    return true;
  }

  // ---- request head ----

  // The first request's head must be complete within the header timeout of the accept; later
  // ones may wait the idle timeout for their first byte, then have the header timeout.
  bool read_head(bool first, ParseResult* parsed) {
    struct Waiting {
      HeadWaiters& waiters;
      std::uint64_t ticket;
      bool ended = false;
      bool end() { return !std::exchange(ended, true) && waiters.end(ticket); }
      ~Waiting() { end(); }
    } waiting{ctx_.waiters, ctx_.waiters.begin(client_.get())};
    if (!in_.empty()) ctx_.waiters.head_started(waiting.ticket);  // pipelined after the last one
    auto deadline = first || !in_.empty() ? after(ctx_.limits.header_timeout_seconds)
                                         : after(ctx_.limits.idle_timeout_seconds);
    while (true) {
      if (!in_.empty()) {
        *parsed = parse_request_head(in_, ctx_.limits.max_header_bytes, RequestForm::origin);
        if (parsed->status == ParseResult::Status::complete) return waiting.end();  // false: evicted
        if (parsed->status == ParseResult::Status::error) {
          begin_record(nullptr);
          refuse(parsed->http_status, parsed->message);
          return false;
        }
      }
      char buffer[16 * 1024];
      std::size_t got = 0;
      bool was_empty = in_.empty();
      Recv r = client_recv(buffer, sizeof buffer, deadline, &got);
      if (r == Recv::timeout && !was_empty) {
        begin_record(nullptr);
        refuse(408, "the request head did not arrive within " + std::to_string(ctx_.limits.header_timeout_seconds) +
                        " seconds");
      }
      if (r != Recv::data) return false;
      if (was_empty) ctx_.waiters.head_started(waiting.ticket);
      if (was_empty && !first) deadline = after(ctx_.limits.header_timeout_seconds);
      in_.append(buffer, got);
    }
  }

  // ---- one exchange ----

  void begin_record(const HttpRequest* request) {
    record_ = AuditRecord{};
    record_.kind = "gateway";
    record_.time_ms = epoch_ms();
    record_.host = ctx_.upstream.host.text;
    record_.port = ctx_.upstream.port;
    if (request) {
      record_.method = request->method;
      record_.path = audit_path(request->origin_form);
    }
    started_ = WaitClock::now();
    bytes_in_ = 0;
  }

  void finish_record() {
    record_.bytes_in = bytes_in_;
    record_.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(WaitClock::now() - started_).count();
    ctx_.requests.fetch_add(1);
    if (ctx_.audit) ctx_.audit->write(record_);
  }

  // The gateway answers itself (and closes): the status and one sentence, audited.
  void refuse(int status, const std::string& message) {
    client_send(simple_response(status, "claude-container gateway: " + message + "\n"));
    record_.status = status;
    record_.error = message;
    ctx_.failed.fetch_add(1);
    finish_record();
  }

  // Returns whether the client connection stays open for another request.
  bool exchange(const ParseResult& parsed) {
    const HttpRequest& request = parsed.request;
    begin_record(&request);
    record_.bytes_out = parsed.head_length;
    in_.erase(0, parsed.head_length);

    GatewayRefusal refusal = check_gateway_request(request, ctx_.upstream);
    if (refusal.status) {
      refuse(refusal.status, refusal.message);
      return false;
    }
    if (upstream_ && upstream_->stale()) upstream_.reset();
    if (!upstream_) {
      std::string error;
      upstream_ = TlsStream::open(*ctx_.tls, ctx_.tls_target, after(ctx_.limits.connect_timeout_seconds), ctx_.wake_fd,
                                  &error);
      if (!upstream_) {
        refuse(error.find("timed out") != std::string::npos ? 504 : 502, error);
        return false;
      }
    }
    std::string head = gateway_request_head(request, ctx_.upstream, ctx_.credential);
    bool sent = upstream_->write_all(head.data(), head.size(), after(ctx_.limits.idle_timeout_seconds), ctx_.wake_fd);
    head.assign(head.size(), '\0');  // the head held the credential: do not leave it in freed memory
    if (!sent) {
      upstream_.reset();
      refuse(502, "the upstream closed the connection before the request was sent; try again");
      return false;
    }
    bool has_body = request.framing != BodyFraming::none;
    if (has_body && expects_continue(request) && !client_send("HTTP/1.1 100 Continue\r\n\r\n")) {
      upstream_.reset();
      record_.error = "the client closed the connection";
      finish_record();
      return false;
    }
    response_.clear();
    Body body = send_body(request);
    switch (body) {
      case Body::complete:
      case Body::early_response:
      case Body::upstream_failed:
        break;
      case Body::bad_chunked:
        upstream_.reset();
        refuse(400, "the chunked request body is malformed");
        return false;
      case Body::client_gone:
        upstream_.reset();
        record_.error = "the client closed the connection before the request body ended";
        finish_record();
        return false;
      case Body::client_timeout:
        upstream_.reset();
        refuse(408, "the request body stalled for " + std::to_string(ctx_.limits.idle_timeout_seconds) + " seconds");
        return false;
      case Body::upstream_timeout:
        upstream_.reset();
        refuse(504, "the upstream stopped reading the request body for " +
                        std::to_string(ctx_.limits.idle_timeout_seconds) + " seconds");
        return false;
    }
    return relay_response(request, body == Body::complete);
  }

  // Streams the request body (as framed) to the upstream. Watches the upstream meanwhile: a
  // response before the body ended (an error such as 401 or 413) is relayed instead.
  Body send_body(const HttpRequest& request) {
    if (request.framing == BodyFraming::none) return Body::complete;
    std::uint64_t remaining = request.content_length;
    ChunkedBodyTracker chunks;
    bool done = request.framing == BodyFraming::length && remaining == 0;
    std::string pending;
    std::size_t pending_offset = 0;
    while (true) {
      if (pending_offset == pending.size()) {
        pending.clear();
        pending_offset = 0;
        if (done) return Body::complete;
        if (in_.empty()) {
          Body waited = wait_for_client_or_upstream();
          if (waited != Body::complete) return waited;
          continue;
        }
        std::size_t take = 0;
        if (request.framing == BodyFraming::length) {
          take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, in_.size()));
          remaining -= take;
          done = remaining == 0;
        } else {
          take = chunks.consume(in_.data(), in_.size());
          if (chunks.failed()) return Body::bad_chunked;
          done = chunks.done();
        }
        pending.assign(in_, 0, take);
        in_.erase(0, take);
        record_.bytes_out += take;
        continue;
      }
      TlsIo io = upstream_->try_write(pending.data() + pending_offset, pending.size() - pending_offset);
      if (io.status == TlsIo::Status::data) {
        pending_offset += io.bytes;
        continue;
      }
      if (io.status != TlsIo::Status::again) return Body::upstream_failed;
      short revents = 0;
      auto waited = wait_fd(upstream_->fd(), static_cast<short>(upstream_->wanted_events() | POLLIN),
                            after(ctx_.limits.idle_timeout_seconds), ctx_.wake_fd, &revents);
      if (waited == WaitResult::timeout) return Body::upstream_timeout;
      if (waited == WaitResult::woken) return Body::client_gone;
      if ((revents & POLLIN) && upstream_->wanted_events() != POLLIN) {
        Body early = read_early_response();
        if (early != Body::complete) return early;
      }
    }
  }

  // Waits until the client sent more body bytes (appended to in_) or the upstream answered.
  Body wait_for_client_or_upstream() {
    auto deadline = after(ctx_.limits.idle_timeout_seconds);
    while (true) {
      if (upstream_->has_buffered()) {
        Body early = read_early_response();
        if (early != Body::complete) return early;
      }
      pollfd p[3] = {{client_.get(), POLLIN, 0}, {upstream_->fd(), POLLIN, 0}, {ctx_.wake_fd, POLLIN, 0}};
      int n = ::poll(p, ctx_.wake_fd >= 0 ? 3 : 2, ms_until(deadline));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || (ctx_.wake_fd >= 0 && p[2].revents)) return Body::client_gone;
      if (n == 0) {
        if (WaitClock::now() >= deadline) return Body::client_timeout;
        continue;
      }
      if (p[1].revents) {
        Body early = read_early_response();
        if (early != Body::complete) return early;
      }
      if (p[0].revents) {
        char buffer[kBufferBytes];
        ssize_t got = ::recv(client_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (got > 0) {
          in_.append(buffer, static_cast<std::size_t>(got));
          return Body::complete;
        }
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return Body::client_gone;
      }
    }
  }

  // The upstream sent something while the body was still going up. Session tickets and other
  // TLS records leave nothing to read (complete); response bytes go to response_.
  Body read_early_response() {
    char buffer[kBufferBytes];
    TlsIo io = upstream_->try_read(buffer, sizeof buffer);
    if (io.status == TlsIo::Status::again) return Body::complete;
    if (io.status != TlsIo::Status::data) return Body::upstream_failed;
    response_.append(buffer, io.bytes);
    return Body::early_response;
  }

  // Reads the response head (relaying 1xx), then streams the body to the client as it comes.
  bool relay_response(const HttpRequest& request, bool body_complete) {
    auto idle = [&] { return after(ctx_.limits.idle_timeout_seconds); };
    char buffer[kBufferBytes];
    ResponseParseResult parsed;
    while (true) {
      parsed = parse_response_head(response_, kMaxResponseHead, request.method == "HEAD");
      if (parsed.status == ResponseParseResult::Status::error) {
        upstream_.reset();
        refuse(502, parsed.message);
        return false;
      }
      if (parsed.status == ResponseParseResult::Status::complete) {
        int status = parsed.response.status;
        if (status >= 200) break;
        if (status == 101) {
          upstream_.reset();
          refuse(502, "the upstream switched protocols, which the gateway does not relay");
          return false;
        }
        // Interim responses (100 Continue, 103 Early Hints) go to the client as they are.
        if (!client_send(client_response_head(parsed.response, false))) {
          upstream_.reset();
          record_.error = "the client closed the connection";
          finish_record();
          return false;
        }
        response_.erase(0, parsed.head_length);
        continue;
      }
      long n = upstream_->read_some(buffer, sizeof buffer, idle(), ctx_.wake_fd);
      if (n <= 0) {
        upstream_.reset();
        refuse(502, n == 0 ? "the upstream closed the connection without answering"
                           : "the upstream did not answer within " + std::to_string(ctx_.limits.idle_timeout_seconds) +
                                 " seconds");
        return false;
      }
      response_.append(buffer, static_cast<std::size_t>(n));
    }
    const HttpResponseHead& response = parsed.response;
    record_.status = response.status;
    bool keep_client = client_keeps_alive(request) && body_complete && response.framing != ResponseFraming::until_close;
    response_.erase(0, parsed.head_length);
    if (!client_send(client_response_head(response, !keep_client))) {
      upstream_.reset();
      record_.error = "the client closed the connection";
      finish_record();
      return false;
    }

    // The body, relayed as it arrives: every read is written to the client at once.
    std::uint64_t remaining = response.content_length;
    ChunkedBodyTracker chunks;
    bool done = response.framing == ResponseFraming::none ||
                (response.framing == ResponseFraming::length && remaining == 0);
    bool leftover = false;
    std::string piece = std::move(response_);
    response_.clear();
    while (true) {
      if (!piece.empty() && !done) {
        std::size_t take = piece.size();
        if (response.framing == ResponseFraming::length) {
          take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, piece.size()));
          remaining -= take;
          done = remaining == 0;
        } else if (response.framing == ResponseFraming::chunked) {
          take = chunks.consume(piece.data(), piece.size());
          if (chunks.failed()) {
            upstream_.reset();
            record_.error = "the upstream's chunked response is malformed";
            finish_record();
            return false;
          }
          done = chunks.done();
        }
        if (take < piece.size()) leftover = true;
        piece.resize(take);
        if (!client_send(piece)) {
          upstream_.reset();
          record_.error = "the client closed the connection during the response";
          finish_record();
          return false;
        }
      } else if (!piece.empty()) {
        leftover = true;
      }
      if (done) break;
      long n = upstream_->read_some(buffer, sizeof buffer, idle(), ctx_.wake_fd);
      if (n == 0 && response.framing == ResponseFraming::until_close) break;
      if (n <= 0) {
        upstream_.reset();
        record_.error = n == 0 ? "the upstream closed the connection before the response ended"
                               : "the upstream's response stalled or the gateway stopped";
        finish_record();
        return false;
      }
      piece.assign(buffer, static_cast<std::size_t>(n));
    }
    if (response.closes || leftover || !body_complete || response.framing == ResponseFraming::until_close)
      upstream_.reset();
    finish_record();
    return keep_client;
  }

  UniqueFd client_;
  GatewayContext& ctx_;
  std::string in_;        // client bytes not consumed yet
  std::string response_;  // upstream bytes not relayed yet
  std::unique_ptr<TlsStream> upstream_;
  AuditRecord record_;
  WaitClock::time_point started_{};
  std::uint64_t bytes_in_ = 0;
};

}  // namespace

std::uint64_t HeadWaiters::begin(int fd) {
  std::lock_guard lock(mutex_);
  waiting_.emplace(next_, Waiter{fd, false});
  return next_++;
}

void HeadWaiters::head_started(std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  if (auto it = waiting_.find(ticket); it != waiting_.end()) it->second.started = true;
}

bool HeadWaiters::end(std::uint64_t ticket) {
  std::lock_guard lock(mutex_);
  return waiting_.erase(ticket) == 1;
}

bool HeadWaiters::evict_oldest() {
  static const std::string busy =
      simple_response(503, "claude-container gateway: too many connections waiting for a request; yours waited longest\n");
  std::lock_guard lock(mutex_);
  if (waiting_.empty()) return false;
  // Under the lock: the owner ends its ticket before it closes the fd, so the fd is still its.
  // It sent nothing of an answer yet (a head is awaited), so the 503 is a whole response.
  Waiter waiter = waiting_.begin()->second;
  waiting_.erase(waiting_.begin());
  if (waiter.started) {
    [[maybe_unused]] auto n = ::send(waiter.fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::shutdown(waiter.fd, SHUT_RDWR);
  return true;
}

void serve_gateway_connection(UniqueFd client, GatewayContext& context) noexcept {
  // OpenSSL writes to the upstream socket with write(2): a peer that closed would raise SIGPIPE
  // and end the whole process. Blocked in this thread, the write fails with EPIPE instead.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  try {
    Connection connection(std::move(client), context);
    connection.serve();
  } catch (...) {
    // Out of memory or a bug in one exchange: end this connection, keep the gateway.
  }
}

}  // namespace cc::net
