#include "net/resolver.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "util/unique_fd.hpp"

namespace cc::net {
namespace {

// An IPv4-mapped ::ffff:a.b.c.d is dialed as a.b.c.d by the kernel, so it is compared as that.
bool same_address(const sockaddr* a, const sockaddr* b) {
  auto mapped_v4 = [](const sockaddr* v6, const sockaddr* v4) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6*>(v6)->sin6_addr;
    return IN6_IS_ADDR_V4MAPPED(&in6) &&
           std::memcmp(in6.s6_addr + 12, &reinterpret_cast<const sockaddr_in*>(v4)->sin_addr, 4) == 0;
  };
  if (a->sa_family == AF_INET6 && b->sa_family == AF_INET) return mapped_v4(a, b);
  if (a->sa_family == AF_INET && b->sa_family == AF_INET6) return mapped_v4(b, a);
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(a)->sin_addr.s_addr == reinterpret_cast<const sockaddr_in*>(b)->sin_addr.s_addr;
  if (a->sa_family == AF_INET6)
    return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr,
                       &reinterpret_cast<const sockaddr_in6*>(b)->sin6_addr, sizeof(in6_addr)) == 0;
  return false;
}

}  // namespace

// A service bound to 0.0.0.0 on the host must not be reachable through the host's public
// address either. The interface list is cached briefly: reading it costs a netlink dump.
void mark_host_local(std::vector<Endpoint>& endpoints) {
  static std::mutex mutex;
  static std::vector<sockaddr_storage> addresses;
  static std::chrono::steady_clock::time_point fetched{};
  std::lock_guard lock(mutex);
  auto now = std::chrono::steady_clock::now();
  if (fetched == std::chrono::steady_clock::time_point{} || now - fetched > std::chrono::seconds(2)) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) == 0) {
      addresses.clear();
      for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
        sockaddr_storage ss{};
        std::memcpy(&ss, i->ifa_addr, i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        addresses.push_back(ss);
      }
      freeifaddrs(list);
      fetched = now;
    }
  }
  for (auto& e : endpoints)
    for (const auto& a : addresses)
      if (same_address(reinterpret_cast<const sockaddr*>(&a), reinterpret_cast<const sockaddr*>(&e.address)))
        e.host_local = true;
}

Endpoint numeric_endpoint(const std::string& address, std::uint16_t port) {
  Endpoint e;
  auto* in = reinterpret_cast<sockaddr_in*>(&e.address);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&e.address);
  if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    e.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    e.length = sizeof(sockaddr_in6);
  }
  return e;
}

ResolveResult system_resolve(const std::string& host, std::uint16_t port) {
  ResolveResult result;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    result.error = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
    return result;
  }
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Endpoint e;
    std::memcpy(&e.address, ai->ai_addr, ai->ai_addrlen);
    e.length = ai->ai_addrlen;
    result.endpoints.push_back(e);
  }
  freeaddrinfo(list);
  if (result.endpoints.empty()) result.error = "cannot resolve " + host + ": no IPv4 or IPv6 address";
  return result;
}

struct AsyncResolver::Shared {
  ResolveFunction resolve;
  UniqueFd notify;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::tuple<std::uint64_t, std::string, std::uint16_t>> queue;
  std::vector<std::pair<std::uint64_t, ResolveResult>> done;
  bool closing = false;
  unsigned idle = 0;
  unsigned threads = 0;
  unsigned max_threads = 4;

  static void work(std::shared_ptr<Shared> self) {
    std::unique_lock lock(self->mutex);
    while (true) {
      ++self->idle;
      self->wake.wait(lock, [&] { return self->closing || !self->queue.empty(); });
      --self->idle;
      if (self->closing) break;
      auto [ticket, host, port] = std::move(self->queue.front());
      self->queue.pop_front();
      lock.unlock();
      ResolveResult result;
      try {
        result = self->resolve(host, port);
      } catch (const std::exception& e) {
        result.error = std::string("cannot resolve ") + host + ": " + e.what();
      }
      mark_host_local(result.endpoints);
      lock.lock();
      if (self->closing) break;
      self->done.emplace_back(ticket, std::move(result));
      std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(self->notify.get(), &one, sizeof one);
    }
    --self->threads;
  }
};

AsyncResolver::AsyncResolver(ResolveFunction resolve, int notify_fd, unsigned threads)
    : shared_(std::make_shared<Shared>()) {
  shared_->resolve = resolve ? std::move(resolve) : ResolveFunction(system_resolve);
  shared_->notify = UniqueFd(::fcntl(notify_fd, F_DUPFD_CLOEXEC, 0));
  shared_->max_threads = threads == 0 ? 1 : threads;
}

AsyncResolver::~AsyncResolver() {
  std::lock_guard lock(shared_->mutex);
  shared_->closing = true;
  shared_->wake.notify_all();
}

void AsyncResolver::submit(std::uint64_t ticket, std::string host, std::uint16_t port) {
  std::lock_guard lock(shared_->mutex);
  shared_->queue.emplace_back(ticket, std::move(host), port);
  // Threads are started on demand, up to the limit, and then live until the resolver goes.
  if (shared_->idle < shared_->queue.size() && shared_->threads < shared_->max_threads) {
    ++shared_->threads;
    std::thread(Shared::work, shared_).detach();
  }
  shared_->wake.notify_one();
}

std::vector<std::pair<std::uint64_t, ResolveResult>> AsyncResolver::take_completed() {
  std::lock_guard lock(shared_->mutex);
  return std::exchange(shared_->done, {});
}

}  // namespace cc::net
