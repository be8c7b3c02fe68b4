#pragma once
// The state machine of one client connection to the egress proxy:
//   head -> (denied: respond) | resolving -> connecting -> relaying -> closed
// Errors answer 400/403/431/501/502/504 and close; nothing here blocks or throws into the loop.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/audit_log.hpp"
#include "net/domain_policy.hpp"
#include "net/egress_proxy.hpp"
#include "net/http_request.hpp"
#include "net/relay.hpp"
#include "net/resolver.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {

using ProxyClock = std::chrono::steady_clock;

// What a connection needs from the event loop that owns it.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual std::shared_ptr<const DomainPolicy> current_policy() = 0;
  virtual void start_resolve(std::uint64_t id, const std::string& host, std::uint16_t port) = 0;
  virtual void record(const AuditRecord& record) = 0;
  virtual void count_decision(bool allowed) = 0;
  // Sets the epoll interest of fd (0 = none); `key` identifies it in events.
  virtual void watch(int fd, std::uint64_t key, std::uint32_t events, bool* registered) = 0;
  virtual const ProxyLimits& limits() const = 0;
  // True when a test supplied its own resolver: then every host, addresses too, goes through it.
  virtual bool resolver_overridden() const = 0;
};

class ProxyConnection {
 public:
  static constexpr std::uint64_t kClientSide = 0;
  static constexpr std::uint64_t kUpstreamSide = 1;
  static std::uint64_t key(std::uint64_t id, std::uint64_t side) { return (id << 2) | side; }

  ProxyConnection(std::uint64_t id, UniqueFd client, ConnectionHost& host);
  ~ProxyConnection();
  ProxyConnection(const ProxyConnection&) = delete;
  ProxyConnection& operator=(const ProxyConnection&) = delete;

  void on_client(std::uint32_t events);
  void on_upstream(std::uint32_t events);
  void on_resolved(ResolveResult result);
  void on_tick(ProxyClock::time_point now);
  bool closed() const { return state_ == State::closed; }
  bool awaiting_head() const { return state_ == State::head; }
  // Who connected (the event loop's key for per-client limits).
  void set_peer(std::string peer) { peer_ = std::move(peer); }
  const std::string& peer() const { return peer_; }
  int client_fd() const { return client_.get(); }

 private:
  enum class State { head, resolving, connecting, relaying, responding, draining, closed };

  void read_head();
  void handle_request(ParseResult& parsed);
  void respond(int status, const std::string& body, const std::vector<HttpHeader>& headers = {});
  void deny(const std::string& rule, const std::string& body);
  void try_next_endpoint();
  void on_connected();
  void relay(bool up, bool down);
  void flush_response();
  void drain();
  void close(const std::string& error = {});
  void update_interest();
  void set_deadline(int seconds);

  std::uint64_t id_;
  std::string peer_;
  UniqueFd client_;
  UniqueFd upstream_;
  ConnectionHost& host_;
  State state_ = State::head;
  bool client_registered_ = false, upstream_registered_ = false;
  std::uint32_t client_events_ = 0, upstream_events_ = 0;

  std::string head_;                       // bytes read while waiting for the request head
  HttpRequest request_;
  std::string leftover_;                   // bytes after the head
  std::shared_ptr<const DomainPolicy> policy_;
  Decision decision_;
  std::vector<Endpoint> endpoints_;
  std::size_t next_endpoint_ = 0;
  std::string dial_errors_;

  RelayDirection to_upstream_, to_client_;
  std::string response_;                   // error/deny response being written

  ProxyClock::time_point deadline_{};
  ProxyClock::time_point started_ = ProxyClock::now();
  std::int64_t started_ms_ = 0;
  bool audited_ = false;
  bool counted_ = false;
  bool upstream_write_closed_ = false, client_write_closed_ = false;
};

}  // namespace cc::net
