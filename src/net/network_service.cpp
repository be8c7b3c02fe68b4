// Both sides of the network service (network_service.hpp): the caller re-executes this binary
// with fixed descriptors and sends the settings as one JSON line; the service loads what needs
// the filesystem, confines itself (service_confinement.hpp), starts the proxy and the gateway
// on threads of their own and answers JSON-line requests until the channel closes or SIGTERM.
#include "net/network_service.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/domain_policy.hpp"
#include "net/egress_proxy.hpp"
#include "net/resolver.hpp"
#include "net/service_confinement.hpp"
#include "util/error.hpp"

extern char** environ;

namespace cc::net {
namespace {

#ifndef P_PIDFD
constexpr idtype_t P_PIDFD = static_cast<idtype_t>(3);
#endif

// The service's descriptors: 0 /dev/null, 1 and 2 the caller's, then the channel, then the
// proxy's listeners, then the gateway's.
constexpr int kChannelFd = 3;
constexpr int kFirstListenerFd = 4;
constexpr std::size_t kMaxSpecBytes = 4 << 20;     // the extra CA text dominates
constexpr std::size_t kMaxMessageBytes = 1 << 20;  // live allow/deny lists
constexpr int kReadyTimeoutMs = 30000;             // the trust store loads slowly under sanitizers
constexpr int kAnswerTimeoutMs = 5000;

using json = nlohmann::json;

void service_log(const std::string& text) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = std::string("[network-service ") + stamp + "] " + text + "\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads up to the next newline into `line` (without it), keeping what follows in `buffer`.
// Returns false on EOF, error, timeout (-1: none) or a line longer than `max`.
bool read_line(int fd, std::string& buffer, std::string& line, std::size_t max, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto nl = buffer.find('\n');
    if (nl != std::string::npos) {
      line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return true;
    }
    if (buffer.size() > max) return false;
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      wait = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, wait);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

json network_to_json(const config::Network& n) {
  return json{{"policy", config::to_string(n.policy)}, {"allow", n.allow}, {"deny", n.deny},
              {"host_network", n.host_network}};
}

config::Network network_from_json(const json& j) {
  config::Network n;
  auto policy = config::parse_network_policy(j.at("policy").get<std::string>());
  if (!policy) throw Error("the network service got an unknown network policy");
  n.policy = *policy;
  n.allow = j.at("allow").get<std::vector<std::string>>();
  n.deny = j.at("deny").get<std::vector<std::string>>();
  n.host_network = j.at("host_network").get<bool>();
  return n;
}

void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

// Only the sanitizer runtimes' settings pass: the caller's environment may hold secrets.
std::vector<std::string> service_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view v(*e);
    for (std::string_view prefix : {"ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "TSAN_OPTIONS="})
      if (v.substr(0, prefix.size()) == prefix) env.emplace_back(v);
  }
  return env;
}

// In the forked child: only async-signal-safe calls. Moves `sources` to 0, 3, 4, ... and
// executes `exe`; on failure tells the caller on the channel and exits.
[[noreturn]] void exec_child(int exe, int null_fd, const int* sources, int count, char* const* argv, char* const* envp) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // First above the target range, then down into it, so no source is overwritten early.
  const int above = kChannelFd + count + 1;
  int moved[64];
  for (int i = 0; i < count; ++i) moved[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, above);
  int moved_exe = ::fcntl(exe, F_DUPFD_CLOEXEC, above);
  bool ok = moved_exe >= 0 && ::dup2(null_fd, 0) == 0;
  for (int i = 0; i < count; ++i) ok = ok && moved[i] >= 0 && ::dup2(moved[i], kChannelFd + i) == kChannelFd + i;
  if (ok) {
    ::syscall(SYS_close_range, static_cast<unsigned>(kChannelFd + count), ~0U, CLOSE_RANGE_CLOEXEC);
    ::syscall(SYS_execveat, moved_exe, "", argv, envp, AT_EMPTY_PATH);
  }
  static const char failed[] = "{\"error\":\"cannot execute this program again as the network service\"}\n";
  [[maybe_unused]] auto n = ::write(ok ? kChannelFd : sources[0], failed, sizeof failed - 1);
  ::_exit(127);
}

}  // namespace

NetworkService NetworkService::launch(NetworkServiceSpec spec) {
  const std::size_t listeners = spec.proxy_listeners.size() + spec.gateway_listeners.size();
  if (listeners + 1 > 60) throw Error("the network service takes at most 59 listening sockets");
  const std::string exe_path = spec.executable.empty() ? std::string("/proc/self/exe") : spec.executable.string();
  UniqueFd exe(::open(exe_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!exe) throw_errno("cannot open " + exe_path + " to start the network service");
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd) throw_errno("cannot open /dev/null for the network service");
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    throw_errno("cannot create the network service's channel");
  UniqueFd ours(pair[0]), theirs(pair[1]);

  std::vector<int> sources = {theirs.get()};
  for (auto& l : spec.proxy_listeners) sources.push_back(l.get());
  for (auto& l : spec.gateway_listeners) sources.push_back(l.get());
  std::string arg0 = "claude-container", arg1 = kNetworkServiceVerb;
  std::vector<char*> argv = {arg0.data(), arg1.data(), nullptr};
  std::vector<std::string> env = service_environment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  json message{{"proxy_listeners", spec.proxy_listeners.size()},
               {"gateway_listeners", spec.gateway_listeners.size()},
               {"network", network_to_json(spec.network)},
               {"audit_log", spec.audit_log.string()}};
  if (spec.gateway) {
    message["gateway"] = json{{"upstream", spec.gateway->upstream},
                              {"extra_ca_pem", spec.gateway->extra_ca_pem},
                              {"kind", spec.gateway->credential.kind == CredentialKind::api_key ? "api_key" : "oauth_token"},
                              {"credential", spec.gateway->credential.value}};
  }
  std::string text = message.dump() + "\n";
  message.clear();
  if (text.size() > kMaxSpecBytes) {
    wipe(text);
    throw Error("the network service's settings exceed " + std::to_string(kMaxSpecBytes >> 20) +
                " MiB; shorten credentials.ca_file or the allow/deny lists");
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    wipe(text);
    throw_errno("cannot start the network service");
  }
  if (pid == 0) exec_child(exe.get(), null_fd.get(), sources.data(), static_cast<int>(sources.size()), argv.data(), envp.data());

  NetworkService service;
  service.pid_ = pid;
  service.pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  service.channel_ = std::move(ours);
  theirs.reset();
  spec.proxy_listeners.clear();  // the service holds them now: a dead service refuses connections
  spec.gateway_listeners.clear();
  const bool sent = write_all(service.channel_.get(), text);
  wipe(text);
  std::string buffer, line;
  if (!sent || !read_line(service.channel_.get(), buffer, line, kMaxMessageBytes, kReadyTimeoutMs)) {
    throw Error("the network service ended or did not answer during its start; see the container log");
  }
  auto answer = json::parse(line, nullptr, false);
  if (answer.is_object() && answer.value("ready", false)) return service;
  std::string why = answer.is_object() && answer.contains("error") && answer["error"].is_string()
                        ? answer["error"].get<std::string>()
                        : std::string("it gave no reason");
  throw Error("the network service could not start: " + why);
}

NetworkService::NetworkService(NetworkService&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)), channel_(std::move(other.channel_)) {}

NetworkService& NetworkService::operator=(NetworkService&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    channel_ = std::move(other.channel_);
  }
  return *this;
}

NetworkService::~NetworkService() { stop(); }

pid_t NetworkService::pid() const { return pid_; }
int NetworkService::pidfd() const { return pidfd_.get(); }

void NetworkService::stop() {
  if (pid_ <= 0) return;
  channel_.reset();  // the service stops on EOF too
  if (pidfd_) {
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGTERM, nullptr, 0);
    pollfd p{pidfd_.get(), POLLIN, 0};
    while (::poll(&p, 1, 2000) < 0 && errno == EINTR) {
    }
    if (!(p.revents & POLLIN)) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    // ECHILD: the caller's SIGCHLD handling reaped it already.
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0 && errno == EINTR) {
    }
  } else {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pidfd_.reset();
  pid_ = -1;
}

namespace {

json ask(int channel, const json& request) {
  if (channel < 0) throw Error("the network service is not running");
  if (!write_all(channel, request.dump() + "\n")) throw Error("the network service is gone (its channel closed)");
  std::string buffer, line;
  if (!read_line(channel, buffer, line, kMaxMessageBytes, kAnswerTimeoutMs))
    throw Error("the network service did not answer within " + std::to_string(kAnswerTimeoutMs / 1000) + " s");
  auto answer = json::parse(line, nullptr, false);
  if (!answer.is_object()) throw Error("the network service answered something that is not a JSON object");
  if (answer.contains("error") && answer["error"].is_string())
    throw Error("the network service refused the request: " + answer["error"].get<std::string>());
  return answer;
}

}  // namespace

void NetworkService::set_network(const config::Network& network) {
  ask(channel_.get(), json{{"op", "set_network"}, {"network", network_to_json(network)}});
}

NetworkServiceStats NetworkService::stats() {
  auto answer = ask(channel_.get(), json{{"op", "stats"}});
  NetworkServiceStats s;
  auto number = [&](const char* key) {
    return answer.contains(key) && answer[key].is_number_unsigned() ? answer[key].get<std::uint64_t>() : 0;
  };
  s.allowed = number("allowed");
  s.denied = number("denied");
  s.gateway_requests = number("gateway_requests");
  return s;
}

// ---- the service ---------------------------------------------------------------------------

namespace {

std::vector<UniqueFd> take_listeners(int first, std::size_t count) {
  std::vector<UniqueFd> out;
  for (std::size_t i = 0; i < count; ++i) {
    int fd = first + static_cast<int>(i);
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
      throw Error("descriptor " + std::to_string(fd) + " handed to the network service is not a listening socket");
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    out.emplace_back(fd);
  }
  return out;
}

std::size_t count_of(const json& spec, const char* key) {
  auto n = spec.at(key).get<std::size_t>();
  if (n > 59) throw Error("the network service got too many listeners");
  return n;
}

class Service {
 public:
  void start(json& spec) {
    const std::size_t proxies = count_of(spec, "proxy_listeners");
    const std::size_t gateways = count_of(spec, "gateway_listeners");
    auto proxy_fds = take_listeners(kFirstListenerFd, proxies);
    auto gateway_fds = take_listeners(kFirstListenerFd + static_cast<int>(proxies), gateways);
    const std::filesystem::path audit = spec.at("audit_log").get<std::string>();
    const config::Network network = network_from_json(spec.at("network"));

    if (gateways > 0) {
      if (!spec.contains("gateway") || !spec["gateway"].is_object())
        throw Error("the network service got gateway listeners but no gateway settings");
      auto& g = spec["gateway"];
      GatewayOptions options;
      options.listeners = std::move(gateway_fds);
      options.upstream = g.at("upstream").get<std::string>();
      options.extra_ca_pem = g.at("extra_ca_pem").get<std::string>();
      options.credential.kind = g.at("kind").get<std::string>() == "oauth_token" ? CredentialKind::oauth_token
                                                                                  : CredentialKind::api_key;
      options.credential.value = g.at("credential").get<std::string>();
      wipe(g["credential"].get_ref<std::string&>());
      options.audit_log = audit;
      gateway_options_ = std::move(options);
    }
    if (proxies > 0) {
      ProxyOptions options;
      options.listeners = std::move(proxy_fds);
      options.policy = DomainPolicy::from_config(network);
      options.audit_log = audit;
      proxy_ = std::make_unique<EgressProxy>(std::move(options));
    }
    audit_ = audit;
  }

  // After the caller was told the settings are good: loading the system trust store takes tens
  // of milliseconds, which the container's start need not wait for (connections wait in the
  // listen backlog). Nothing from the sandbox is read before the confinement.
  void confine_and_serve() {
    if (gateway_options_) gateway_ = std::make_unique<CredentialGateway>(std::move(*gateway_options_));
    gateway_options_.reset();
    // Name resolution (the proxy's destinations, the gateway's upstream) loads its
    // configuration and NSS modules on first use: now, while the filesystem is reachable.
    (void)system_resolve("localhost", 0);
    ServiceConfinement confinement;
    if (!audit_.empty()) confinement.audit_dir = audit_.parent_path();
    confinement.readable_files = name_resolution_files();
    confine_network_service(confinement);
    if (!landlock_enforced())
      service_log("the kernel has no Landlock: the service runs without capabilities and under its seccomp filter, "
                  "but may read files its user can read");

    if (proxy_) proxy_thread_ = std::thread([this] { serve("the egress proxy", [this] { proxy_->run(); }); });
    if (gateway_) gateway_thread_ = std::thread([this] { serve("the credential gateway", [this] { gateway_->run(); }); });
  }

  // Requests from the caller until it closes the channel or a signal asks us to stop.
  void answer_requests(int signal_fd) {
    std::string buffer;
    while (true) {
      pollfd fds[2] = {{kChannelFd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
      int rc = ::poll(fds, 2, -1);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0 || fds[1].revents) return;
      if (!fds[0].revents) continue;
      char chunk[65536];
      ssize_t n = ::recv(kChannelFd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        if (!write_all(kChannelFd, handle(line).dump() + "\n")) return;
      }
      if (buffer.size() > kMaxMessageBytes) {
        service_log("a request from the supervisor exceeded " + std::to_string(kMaxMessageBytes) + " bytes; stopping");
        return;
      }
    }
  }

  void stop() {
    if (proxy_) proxy_->stop();
    if (gateway_) gateway_->stop();
    if (proxy_thread_.joinable()) proxy_thread_.join();
    if (gateway_thread_.joinable()) gateway_thread_.join();
  }

 private:
  // Whatever a component throws ends the service (the caller logs that), never the caller.
  template <typename F>
  static void serve(const char* what, F run) {
    try {
      run();
      return;
    } catch (const std::exception& e) {
      service_log(std::string(what) + " stopped: " + e.what());
    } catch (...) {
      service_log(std::string(what) + " stopped on an unknown error");
    }
    ::_exit(1);
  }

  json handle(const std::string& line) {
    try {
      auto request = json::parse(line);
      const auto op = request.at("op").get<std::string>();
      if (op == "stats") {
        json out{{"allowed", 0}, {"denied", 0}, {"gateway_requests", 0}};
        if (proxy_) {
          auto s = proxy_->stats();
          out["allowed"] = s.allowed;
          out["denied"] = s.denied;
        }
        if (gateway_) out["gateway_requests"] = gateway_->stats().requests;
        return out;
      }
      if (op == "set_network") {
        auto policy = DomainPolicy::from_config(network_from_json(request.at("network")));
        if (proxy_) proxy_->set_policy(std::move(policy));
        service_log("network policy reloaded");
        return json{{"ok", true}};
      }
      return json{{"error", "unknown request " + op}};
    } catch (const std::exception& e) {
      return json{{"error", e.what()}};
    }
  }

  std::filesystem::path audit_;
  std::optional<GatewayOptions> gateway_options_;
  std::unique_ptr<EgressProxy> proxy_;
  std::unique_ptr<CredentialGateway> gateway_;
  std::thread proxy_thread_, gateway_thread_;
};

int run_service() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop_signals, sig);
  ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);  // threads inherit the mask
  UniqueFd signal_fd(::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) throw_errno("cannot create the network service's signalfd");

  std::string buffer, line;
  if (!read_line(kChannelFd, buffer, line, kMaxSpecBytes, 10000))
    throw Error("the network service got no settings from its caller");
  auto spec = json::parse(line);
  wipe(line);
  Service service;
  try {
    service.start(spec);
  } catch (const std::exception& e) {
    write_all(kChannelFd, json{{"error", e.what()}}.dump() + "\n");
    throw;
  }
  spec.clear();
  if (!write_all(kChannelFd, "{\"ready\":true}\n")) return 1;
  service.confine_and_serve();
  service.answer_requests(signal_fd.get());
  service.stop();
  return 0;
}

}  // namespace

void network_service_main(int /*argc*/, char** /*argv*/) {
  int code = 1;
  try {
    code = run_service();
  } catch (const std::exception& e) {
    service_log(std::string("stopped: ") + e.what());
  } catch (...) {
    service_log("stopped on an unknown error");
  }
  // _exit: no static destructors or sanitizer exit hooks under the seccomp filter.
  ::_exit(code);
}

}  // namespace cc::net
