// The egress proxy's event loop: one thread, epoll (level-triggered), accepting on the listeners
// handed over from the sandbox, dispatching to ProxyConnection state machines, finishing name
// lookups from the resolver's workers, and sweeping deadlines four times a second.
#include "net/egress_proxy.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <unordered_map>

#include "net/audit_log.hpp"
#include "net/http_request.hpp"
#include "net/proxy_connection.hpp"
#include "util/error.hpp"

namespace cc::net {
namespace {

constexpr std::uint64_t kSpecialSide = 2;
constexpr std::uint64_t kListenerSide = 3;
constexpr int kTickMs = 250;
constexpr int kAcceptsPerEvent = 64;

// Per-client limits key on the client's address, or on its process for unix sockets (an image
// engine's container): every process of a native sandbox shares 127.0.0.1, so the overall
// limit and eviction of the longest waiting head are what keep the proxy available there.
std::string peer_key(int fd, const sockaddr_storage& address, socklen_t length) {
  if (address.ss_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    return std::string("4:") + std::string(reinterpret_cast<const char*>(&in.sin_addr), sizeof in.sin_addr);
  }
  if (address.ss_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    return std::string("6:") + std::string(reinterpret_cast<const char*>(&in6.sin6_addr), sizeof in6.sin6_addr);
  }
  if (address.ss_family == AF_UNIX) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) return "u:" + std::to_string(cred.pid);
  }
  return "?";
}

// Each tunnel holds two sockets and two pipes: lift the soft fd limit to the hard one so the
// connection limit, not the fd table, is what bounds the proxy.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

struct EgressProxy::Impl final : ConnectionHost {
  explicit Impl(ProxyOptions options)
      : listeners(std::move(options.listeners)),
        policy(std::make_shared<const DomainPolicy>(std::move(options.policy))),
        audit(options.audit_log),
        limits_(options.limits),
        overridden(static_cast<bool>(options.resolver)) {
    raise_fd_limit();
    epoll = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll) throw_errno("cannot create the proxy's epoll instance");
    wake = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake) throw_errno("cannot create the proxy's eventfd");
    resolver = std::make_unique<AsyncResolver>(std::move(options.resolver), wake.get());
    bool registered = false;
    watch(wake.get(), ProxyConnection::key(0, kSpecialSide), EPOLLIN, &registered);
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      if (!listeners[i]) continue;
      bool r = false;
      watch(listeners[i].get(), ProxyConnection::key(i, kListenerSide), EPOLLIN, &r);
    }
    paused.assign(listeners.size(), false);
  }

  ~Impl() override { connections.clear(); }

  // ConnectionHost
  std::shared_ptr<const DomainPolicy> current_policy() override {
    std::lock_guard lock(policy_mutex);
    return policy;
  }
  void start_resolve(std::uint64_t id, const std::string& host, std::uint16_t port) override {
    resolver->submit(id, host, port);
  }
  void record(const AuditRecord& r) override { audit.write(r); }
  void count_decision(bool is_allowed) override { (is_allowed ? allowed : denied).fetch_add(1); }
  void watch(int fd, std::uint64_t key, std::uint32_t events, bool* registered) override {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key;
    if (!*registered) {
      if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) == 0) *registered = true;
    } else {
      ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, fd, &ev);
    }
  }
  const ProxyLimits& limits() const override { return limits_; }
  bool resolver_overridden() const override { return overridden; }

  struct HeadCount {
    std::size_t all = 0, of_peer = 0;
    std::uint64_t oldest = 0, oldest_of_peer = 0;  // 0: none
  };
  HeadCount count_heads(const std::string& peer) const {
    HeadCount c;
    for (const auto& [id, conn] : connections) {
      if (!conn->awaiting_head()) continue;
      ++c.all;
      if (c.oldest == 0 || id < c.oldest) c.oldest = id;
      if (conn->peer() != peer) continue;
      ++c.of_peer;
      if (c.oldest_of_peer == 0 || id < c.oldest_of_peer) c.oldest_of_peer = id;
    }
    return c;
  }

  void evict(std::uint64_t id) {
    auto it = connections.find(id);
    if (it == connections.end()) return;
    static const std::string busy =
        simple_response(503, "claude-container proxy: too many unfinished request heads; yours waited longest\n");
    // Best effort: the head never finished, so nothing was decided or audited.
    [[maybe_unused]] auto n = ::send(it->second->client_fd(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    connections.erase(it);
    ++evicted;
  }

  // Before a new client from `peer` joins: the longest waiting head of that peer goes when the
  // peer is at its limit, and the longest waiting head of all when the heads or the
  // connections are at theirs.
  void make_room_for(const std::string& peer) {
    auto heads = count_heads(peer);
    if (heads.of_peer >= limits_.max_pending_heads_per_peer && heads.oldest_of_peer != 0) {
      evict(heads.oldest_of_peer);
      heads = count_heads(peer);
    }
    if ((heads.all >= limits_.max_pending_heads || connections.size() >= limits_.max_connections) && heads.oldest != 0)
      evict(heads.oldest);
  }

  void accept_from(std::size_t index) {
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      int fd = ::accept4(listeners[index].get(), reinterpret_cast<sockaddr*>(&address), &length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop accepting until the next tick instead of spinning.
          epoll_event ev{};
          ev.data.u64 = ProxyConnection::key(index, kListenerSide);
          ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, listeners[index].get(), &ev);
          paused[index] = true;
        }
        return;
      }
      UniqueFd client(fd);
      std::string peer = peer_key(client.get(), address, length);
      make_room_for(peer);
      if (connections.size() >= limits_.max_connections) {
        static const std::string busy = simple_response(503, "claude-container proxy: too many connections\n");
        [[maybe_unused]] auto n = ::send(client.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        continue;
      }
      int one = 1;
      ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::uint64_t id = next_id++;
      auto connection = std::make_unique<ProxyConnection>(id, std::move(client), *this);
      connection->set_peer(std::move(peer));
      connections.emplace(id, std::move(connection));
      active.store(connections.size());
    }
  }

  void finish_lookups() {
    std::uint64_t counter;
    while (::read(wake.get(), &counter, sizeof counter) > 0) {
    }
    for (auto& [id, result] : resolver->take_completed()) {
      auto it = connections.find(id);
      if (it == connections.end()) continue;
      it->second->on_resolved(std::move(result));
      if (it->second->closed()) connections.erase(it);
    }
  }

  void tick() {
    auto now = ProxyClock::now();
    for (auto it = connections.begin(); it != connections.end();) {
      it->second->on_tick(now);
      if (it->second->closed()) it = connections.erase(it);
      else ++it;
    }
    audit.flush_repeats();
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      if (!paused[i]) continue;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = ProxyConnection::key(i, kListenerSide);
      ::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, listeners[i].get(), &ev);
      paused[i] = false;
    }
    active.store(connections.size());
  }

  void run() {
    epoll_event events[256];
    auto next_tick = ProxyClock::now() + std::chrono::milliseconds(kTickMs);
    while (!stopping.load()) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - ProxyClock::now()).count();
      int n = ::epoll_wait(epoll.get(), events, 256, wait < 0 ? 0 : static_cast<int>(wait));
      if (n < 0 && errno != EINTR) throw_errno("the proxy's epoll_wait failed");
      for (int i = 0; i < n; ++i) {
        std::uint64_t key = events[i].data.u64;
        std::uint64_t side = key & 3, id = key >> 2;
        if (side == kSpecialSide) {
          finish_lookups();
        } else if (side == kListenerSide) {
          if (id < listeners.size()) accept_from(id);
        } else {
          auto it = connections.find(id);
          if (it == connections.end()) continue;
          if (side == ProxyConnection::kClientSide) it->second->on_client(events[i].events);
          else it->second->on_upstream(events[i].events);
          if (it->second->closed()) connections.erase(it);
        }
      }
      active.store(connections.size());
      if (ProxyClock::now() >= next_tick) {
        tick();
        next_tick = ProxyClock::now() + std::chrono::milliseconds(kTickMs);
      }
    }
    connections.clear();  // each records its audit line as it closes
    audit.flush_repeats(true);
    active.store(0);
  }

  std::vector<UniqueFd> listeners;
  std::vector<bool> paused;
  UniqueFd epoll, wake;
  std::mutex policy_mutex;
  std::shared_ptr<const DomainPolicy> policy;
  AuditWriter audit;
  ProxyLimits limits_;
  bool overridden = false;
  std::unique_ptr<AsyncResolver> resolver;
  std::unordered_map<std::uint64_t, std::unique_ptr<ProxyConnection>> connections;
  std::uint64_t next_id = 1;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> allowed{0}, denied{0}, active{0}, evicted{0};
};

EgressProxy::EgressProxy(ProxyOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

EgressProxy::~EgressProxy() = default;

void EgressProxy::run() { impl_->run(); }

void EgressProxy::stop() {
  impl_->stopping.store(true);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(impl_->wake.get(), &one, sizeof one);
}

void EgressProxy::set_policy(DomainPolicy policy) {
  auto next = std::make_shared<const DomainPolicy>(std::move(policy));
  std::lock_guard lock(impl_->policy_mutex);
  impl_->policy = std::move(next);
}

ProxyStats EgressProxy::stats() const {
  ProxyStats s;
  s.allowed = impl_->allowed.load();
  s.denied = impl_->denied.load();
  s.active_connections = impl_->active.load();
  s.evicted_heads = impl_->evicted.load();
  return s;
}

}  // namespace cc::net
