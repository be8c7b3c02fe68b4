// The credential gateway's accept loop: a thread per client connection (blocking logic with
// poll-based deadlines, see gateway_connection.hpp), bounded by max_connections; stop() makes
// the wake eventfd readable, which ends every wait of every thread.
#include "net/credential_gateway.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>

#include "net/audit_log.hpp"
#include "net/gateway_connection.hpp"
#include "net/http_request.hpp"
#include "net/tls_upstream.hpp"
#include "util/error.hpp"

namespace cc::net {
namespace {

constexpr std::size_t kThreadStackBytes = 1 << 20;

// The value goes into a header line: anything that could end the line or the head is refused
// here, whatever the credential source checked.
void check_credential(const UpstreamCredential& credential) {
  if (credential.value.empty()) throw usage_error("the gateway has no API credential to add; run claude-container login");
  for (char c : credential.value)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw usage_error("the API credential contains spaces or control characters; store it again with "
                        "claude-container login");
}

}  // namespace

struct CredentialGateway::Impl {
  explicit Impl(GatewayOptions options)
      : listeners(std::move(options.listeners)),
        tls(options.extra_ca_pem),
        audit(options.audit_log) {
    check_credential(options.credential);
    wake = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake) throw_errno("cannot create the gateway's eventfd");
    context.upstream = parse_upstream_url(options.upstream);
    context.tls_target.host = context.upstream.host.text;
    context.tls_target.is_address = context.upstream.host.kind != HostKind::name;
    context.tls_target.port = context.upstream.port;
    context.tls = &tls;
    context.credential = std::move(options.credential);
    context.limits = options.limits;
    context.audit = &audit;
    context.wake_fd = wake.get();
  }

  ~Impl() {
    stop();
    wait_for_connections();
  }

  void stop() {
    stopping.store(true);
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake.get(), &one, sizeof one);
  }

  void wait_for_connections() {
    std::unique_lock lock(mutex);
    idle.wait(lock, [&] { return active == 0; });
  }

  void accept_from(int listener) {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) overloaded = true;
        return;
      }
      UniqueFd client(fd);
      {
        std::lock_guard lock(mutex);
        // At the limit the longest waiting head makes room; its thread ends at once, so the
        // count exceeds the limit only briefly (never twice over).
        if (active >= context.limits.max_connections &&
            (active >= 2 * context.limits.max_connections || !context.waiters.evict_oldest())) {
          static const std::string busy = simple_response(503, "claude-container gateway: too many connections\n");
          [[maybe_unused]] auto n = ::send(client.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          continue;
        }
        ++active;
      }
      int one = 1;
      ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (!start_thread(client.release())) {
        std::lock_guard lock(mutex);
        --active;
        idle.notify_all();
      }
    }
  }

  // A detached thread with a 1 MiB stack (the default 8 MiB per connection would reserve 2 GiB
  // of address space at the connection limit). Takes the fd; false when no thread could start.
  bool start_thread(int fd) {
    struct Start {
      Impl* impl;
      int fd;
    };
    auto* start = new (std::nothrow) Start{this, fd};
    pthread_attr_t attr;
    bool ok = start && pthread_attr_init(&attr) == 0;
    if (ok) {
      pthread_attr_setstacksize(&attr, kThreadStackBytes);
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      pthread_t thread;
      ok = pthread_create(&thread, &attr, [](void* arg) -> void* {
        std::unique_ptr<Start> s(static_cast<Start*>(arg));
        Impl* impl = s->impl;
        serve_gateway_connection(UniqueFd(s->fd), impl->context);
        s.reset();
        std::lock_guard lock(impl->mutex);
        --impl->active;
        impl->idle.notify_all();  // under the lock: run() may destroy *impl once it sees zero
        return nullptr;
      }, start) == 0;
      pthread_attr_destroy(&attr);
    }
    if (!ok) {
      delete start;
      ::close(fd);
    }
    return ok;
  }

  void run() {
    std::vector<pollfd> fds;
    for (const auto& l : listeners)
      if (l) fds.push_back({l.get(), POLLIN, 0});
    fds.push_back({wake.get(), POLLIN, 0});
    while (!stopping.load()) {
      int n = ::poll(fds.data(), fds.size(), overloaded ? 250 : -1);
      if (n < 0 && errno != EINTR) break;
      overloaded = false;
      if (fds.back().revents) break;
      for (std::size_t i = 0; i + 1 < fds.size(); ++i)
        if (fds[i].revents & POLLIN) accept_from(fds[i].fd);
    }
    wait_for_connections();
  }

  std::vector<UniqueFd> listeners;
  TlsClientConfig tls;
  AuditWriter audit;
  UniqueFd wake;
  GatewayContext context;
  std::atomic<bool> stopping{false};
  bool overloaded = false;
  std::mutex mutex;
  std::condition_variable idle;
  std::size_t active = 0;
};

CredentialGateway::CredentialGateway(GatewayOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

CredentialGateway::~CredentialGateway() = default;

void CredentialGateway::run() { impl_->run(); }

void CredentialGateway::stop() { impl_->stop(); }

GatewayStats CredentialGateway::stats() const {
  GatewayStats s;
  s.requests = impl_->context.requests.load();
  s.failed = impl_->context.failed.load();
  std::lock_guard lock(impl_->mutex);
  s.active_connections = impl_->active;
  return s;
}

}  // namespace cc::net
