#include "net/proxy_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/address_filter.hpp"

namespace cc::net {
namespace {

constexpr int kDrainSeconds = 2;  // after an error response, how long unread input is discarded

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string target_text(const HttpRequest& r) { return bracketed(r.host) + ":" + std::to_string(r.port); }

}  // namespace

ProxyConnection::ProxyConnection(std::uint64_t id, UniqueFd client, ConnectionHost& host)
    : id_(id), client_(std::move(client)), host_(host), started_ms_(now_ms()) {
  set_deadline(host_.limits().header_timeout_seconds);
  update_interest();
}

ProxyConnection::~ProxyConnection() {
  if (state_ != State::closed) close();
}

void ProxyConnection::set_deadline(int seconds) {
  deadline_ = ProxyClock::now() + std::chrono::seconds(seconds > 0 ? seconds : 1);
}

void ProxyConnection::update_interest() {
  std::uint32_t want_client = 0, want_upstream = 0;
  switch (state_) {
    case State::head:
    case State::draining:
      want_client = EPOLLIN;
      break;
    case State::resolving:
      break;
    case State::connecting:
      want_upstream = EPOLLOUT;
      break;
    case State::relaying:
      if (to_upstream_.wants_read()) want_client |= EPOLLIN;
      if (to_client_.wants_write()) want_client |= EPOLLOUT;
      if (to_client_.wants_read()) want_upstream |= EPOLLIN;
      if (to_upstream_.wants_write()) want_upstream |= EPOLLOUT;
      break;
    case State::responding:
      want_client = EPOLLOUT;
      break;
    case State::closed:
      return;
  }
  if (client_ && (want_client != client_events_ || !client_registered_)) {
    host_.watch(client_.get(), key(id_, kClientSide), want_client, &client_registered_);
    client_events_ = want_client;
  }
  if (upstream_ && (want_upstream != upstream_events_ || !upstream_registered_)) {
    host_.watch(upstream_.get(), key(id_, kUpstreamSide), want_upstream, &upstream_registered_);
    upstream_events_ = want_upstream;
  }
}

void ProxyConnection::on_client(std::uint32_t events) {
  switch (state_) {
    case State::head: read_head(); break;
    case State::relaying:
      // Readable client: bytes to move up; writable client: room for bytes coming down.
      relay(events & (EPOLLIN | EPOLLHUP | EPOLLERR), events & (EPOLLOUT | EPOLLHUP | EPOLLERR));
      break;
    case State::responding: flush_response(); break;
    case State::draining: drain(); break;
    default:
      if (events & (EPOLLERR | EPOLLHUP)) close("the client went away");
      break;
  }
  if (state_ != State::closed) update_interest();
}

void ProxyConnection::on_upstream(std::uint32_t events) {
  if (state_ == State::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(upstream_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) {
      on_connected();
    } else {
      dial_errors_ += (dial_errors_.empty() ? "" : "; ") + std::string(std::strerror(err));
      upstream_events_ = 0;
      upstream_registered_ = false;
      upstream_.reset();  // closing removes it from epoll
      try_next_endpoint();
    }
  } else if (state_ == State::relaying) {
    relay(events & (EPOLLOUT | EPOLLHUP | EPOLLERR), events & (EPOLLIN | EPOLLHUP | EPOLLERR));
  }
  if (state_ != State::closed) update_interest();
}

void ProxyConnection::read_head() {
  const std::size_t max = host_.limits().max_header_bytes;
  // Read at most one byte more than the limit: enough to tell "too large".
  while (head_.size() <= max) {
    char buf[4096];
    std::size_t want = std::min(sizeof buf, max + 1 - head_.size());
    ssize_t n = ::recv(client_.get(), buf, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      close();
      return;
    }
    if (n == 0) {  // client gave up before sending a whole head
      close();
      return;
    }
    head_.append(buf, static_cast<std::size_t>(n));
    ParseResult parsed = parse_request_head(head_, max);
    if (parsed.status == ParseResult::Status::incomplete) continue;
    if (parsed.status == ParseResult::Status::error) {
      respond(parsed.http_status, "claude-container proxy: " + parsed.message + "\n");
      return;
    }
    handle_request(parsed);
    return;
  }
  if (head_.size() > max) {
    respond(431, "claude-container proxy: the request head is larger than " + std::to_string(max) + " bytes\n");
  }
}

void ProxyConnection::handle_request(ParseResult& parsed) {
  request_ = std::move(parsed.request);
  leftover_ = head_.substr(parsed.head_length);
  head_.clear();
  head_.shrink_to_fit();
  policy_ = host_.current_policy();
  decision_ = policy_->decide(request_.host.text, request_.port);
  if (!decision_.allowed) {
    deny(decision_.rule,
         "claude-container: the network policy blocked " + target_text(request_) + " (rule: " + decision_.rule +
             ").\nTo allow it, run on the host:\n    claude-container allow " + bracketed(request_.host) +
             "\nor, for this port only:\n    claude-container allow " + target_text(request_) + "\n");
    return;
  }
  state_ = State::resolving;
  set_deadline(host_.limits().connect_timeout_seconds);
  if (request_.host.kind != HostKind::name && !host_.resolver_overridden()) {
    // An address needs no lookup: skip the round trip through the resolver's threads.
    ResolveResult numeric;
    numeric.endpoints.push_back(numeric_endpoint(request_.host.text, request_.port));
    mark_host_local(numeric.endpoints);
    on_resolved(std::move(numeric));
    return;
  }
  host_.start_resolve(id_, request_.host.text, request_.port);
}

void ProxyConnection::deny(const std::string& rule, const std::string& body) {
  decision_.allowed = false;
  decision_.rule = rule;
  if (!counted_) host_.count_decision(false);
  counted_ = true;
  AuditRecord r;
  r.time_ms = started_ms_;
  r.host = request_.host.text;
  r.port = request_.port;
  r.allowed = false;
  r.rule = rule;
  r.method = request_.method;
  r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ProxyClock::now() - started_).count();
  host_.record(r);
  audited_ = true;
  respond(403, body, {{"X-Proxy-Error", "blocked-by-policy"}});
}

void ProxyConnection::on_resolved(ResolveResult result) {
  if (state_ != State::resolving) return;
  if (!result.error.empty()) {
    dial_errors_ = result.error;
    respond(502, "claude-container proxy: " + result.error + "\n");
    return;
  }
  std::string refused;  // why each refused address was refused, for the denial message
  std::string deny_rule;
  for (auto& e : result.endpoints) {
    auto* sa = reinterpret_cast<const sockaddr*>(&e.address);
    std::string text = address_text(sa);
    if (auto rule = policy_->denies_address(text, request_.port)) {
      deny_rule = *rule;
      refused += (refused.empty() ? "" : ", ") + text + " (" + *rule + ")";
      continue;
    }
    std::string cls = blocked_address_class(sa);
    if (cls.empty() && e.host_local) cls = "an address of the host itself";
    if (!cls.empty() && !policy_->names_address_literally(text)) {
      refused += (refused.empty() ? "" : ", ") + text + " (" + cls + ")";
      continue;
    }
    endpoints_.push_back(e);
  }
  if (endpoints_.empty()) {
    std::string rule = deny_rule.empty() ? "blocked-address" : deny_rule;
    std::string first = refused.substr(0, refused.find(' '));
    deny(rule, "claude-container: " + target_text(request_) + " resolves only to addresses the proxy does not dial: " +
                   refused + ".\nAddresses on the host's own or private networks are refused unless allowed by "
                   "address.\nTo allow one, run on the host:\n    claude-container allow " +
                   (first.find(':') != std::string::npos ? "[" + first + "]" : first) + "\n");
    return;
  }
  if (!counted_) host_.count_decision(true);
  counted_ = true;
  state_ = State::connecting;
  try_next_endpoint();
  if (state_ != State::closed) update_interest();
}

void ProxyConnection::try_next_endpoint() {
  while (next_endpoint_ < endpoints_.size()) {
    const Endpoint& e = endpoints_[next_endpoint_++];
    auto* sa = reinterpret_cast<const sockaddr*>(&e.address);
    UniqueFd fd(::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      dial_errors_ += (dial_errors_.empty() ? "" : "; ") + address_text(sa) + ": " + std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), sa, e.length) == 0 || errno == EINPROGRESS) {
      upstream_ = std::move(fd);
      upstream_registered_ = false;
      upstream_events_ = 0;
      if (errno != EINPROGRESS) {
        // Connected at once (possible on loopback).
        on_connected();
      }
      return;
    }
    dial_errors_ += (dial_errors_.empty() ? "" : "; ") + address_text(sa) + ": " + std::strerror(errno);
  }
  respond(502, "claude-container proxy: cannot connect to " + target_text(request_) + ": " + dial_errors_ + "\n");
}

void ProxyConnection::on_connected() {
  dial_errors_.clear();
  state_ = State::relaying;
  set_deadline(host_.limits().idle_timeout_seconds);
  if (request_.is_connect) {
    to_client_.prefix = "HTTP/1.1 200 Connection established\r\n\r\n";
    to_upstream_.prefix = std::move(leftover_);
    to_upstream_.start(host_.limits().zero_copy);
    to_client_.start(host_.limits().zero_copy);
  } else {
    to_upstream_.prefix = upstream_request_head(request_);
    switch (request_.framing) {
      case BodyFraming::none:
        to_upstream_.mark_src_done();
        break;
      case BodyFraming::length: {
        std::uint64_t take = std::min<std::uint64_t>(request_.content_length, leftover_.size());
        to_upstream_.prefix.append(leftover_, 0, static_cast<std::size_t>(take));
        to_upstream_.limit = request_.content_length - take;
        if (*to_upstream_.limit == 0) to_upstream_.mark_src_done();
        break;
      }
      case BodyFraming::chunked: {
        ChunkedBodyTracker tracker;
        std::size_t take = tracker.consume(leftover_.data(), leftover_.size());
        if (tracker.failed()) {
          close("malformed chunked request body");
          return;
        }
        to_upstream_.prefix.append(leftover_, 0, take);
        if (tracker.done()) to_upstream_.mark_src_done();
        else to_upstream_.chunked = tracker;
        break;
      }
    }
    leftover_.clear();
    to_upstream_.start(host_.limits().zero_copy);
    to_client_.start(host_.limits().zero_copy);
  }
  relay(true, true);
}

// Pumps only the directions the event can have unblocked (level-triggered epoll reports the
// rest again), saving a futile system call per event on one-way bulk transfers.
void ProxyConnection::relay(bool up, bool down) {
  if (up && to_upstream_.pump(client_.get(), upstream_.get()) == RelayDirection::Result::error) {
    close(to_upstream_.error_text());
    return;
  }
  if (down && to_client_.pump(upstream_.get(), client_.get()) == RelayDirection::Result::error) {
    close(to_client_.error_text());
    return;
  }
  set_deadline(host_.limits().idle_timeout_seconds);
  if (request_.is_connect) {
    // Forward half-closes once: the other direction keeps flowing until it ends too.
    if (to_upstream_.finished() && !upstream_write_closed_) {
      ::shutdown(upstream_.get(), SHUT_WR);
      upstream_write_closed_ = true;
    }
    if (to_client_.finished() && !client_write_closed_) {
      ::shutdown(client_.get(), SHUT_WR);
      client_write_closed_ = true;
    }
    if (to_upstream_.finished() && to_client_.finished()) close();
  } else if (to_client_.finished()) {
    close();  // the response ended: one request per connection
  }
}

void ProxyConnection::respond(int status, const std::string& body, const std::vector<HttpHeader>& headers) {
  upstream_.reset();
  upstream_registered_ = false;
  response_ = simple_response(status, body, headers);
  state_ = State::responding;
  set_deadline(kDrainSeconds + 3);
  if (status >= 500 && dial_errors_.empty()) dial_errors_ = body.substr(0, body.find('\n'));
  flush_response();
}

void ProxyConnection::flush_response() {
  while (!response_.empty()) {
    ssize_t n = ::send(client_.get(), response_.data(), response_.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      close();
      return;
    }
    response_.erase(0, static_cast<std::size_t>(n));
  }
  // Half-close and discard what the client still sends, so closing does not turn into a reset
  // that destroys the response before the client has read it.
  ::shutdown(client_.get(), SHUT_WR);
  state_ = State::draining;
  set_deadline(kDrainSeconds);
  drain();
}

void ProxyConnection::drain() {
  char buf[4096];
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::recv(client_.get(), buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close();
    return;
  }
}

void ProxyConnection::on_tick(ProxyClock::time_point now) {
  if (state_ == State::closed || now < deadline_) return;
  switch (state_) {
    case State::head:
      respond(408, "claude-container proxy: the request head did not arrive in time\n");
      break;
    case State::resolving:
    case State::connecting:
      dial_errors_ = "timed out connecting to " + target_text(request_);
      respond(504, "claude-container proxy: " + dial_errors_ + "\n");
      break;
    case State::relaying:
      close("idle timeout");
      break;
    default:
      close();
      break;
  }
  if (state_ != State::closed) update_interest();
}

void ProxyConnection::close(const std::string& error) {
  if (state_ == State::closed) return;
  if (decision_.allowed && !audited_ && (counted_ || !request_.method.empty())) {
    AuditRecord r;
    r.time_ms = started_ms_;
    r.host = request_.host.text;
    r.port = request_.port;
    r.allowed = true;
    r.rule = decision_.rule;
    r.method = request_.method;
    r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ProxyClock::now() - started_).count();
    if (counted_) {
      r.bytes_out = to_upstream_.src_bytes_delivered() + to_upstream_.prefix_bytes_delivered();
      r.bytes_in = to_client_.src_bytes_delivered();
      r.error = !dial_errors_.empty() ? dial_errors_ : error;
    } else {
      // Allowed by the rules but never dialed (resolution failed or timed out).
      host_.count_decision(true);
      counted_ = true;
      r.error = !dial_errors_.empty() ? dial_errors_ : (error.empty() ? "closed before connecting" : error);
    }
    host_.record(r);
    audited_ = true;
  }
  state_ = State::closed;
  upstream_.reset();
  client_.reset();
}

}  // namespace cc::net
