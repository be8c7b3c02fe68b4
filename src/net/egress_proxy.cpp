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

  void accept_from(std::size_t index) {
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
      int fd = ::accept4(listeners[index].get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
      if (connections.size() >= limits_.max_connections) {
        static const std::string busy = simple_response(503, "claude-container proxy: too many connections\n");
        [[maybe_unused]] auto n = ::send(client.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        continue;
      }
      int one = 1;
      ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::uint64_t id = next_id++;
      connections.emplace(id, std::make_unique<ProxyConnection>(id, std::move(client), *this));
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
  std::atomic<std::uint64_t> allowed{0}, denied{0}, active{0};
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
  return s;
}

}  // namespace cc::net
