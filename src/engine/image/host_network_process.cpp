// The detached host side of an image engine's network (`__image-network <fd>`): it makes the
// unix listeners the container reaches through its relay, hands them to the confined network
// service, and answers its control socket until `stop`, SIGTERM, or the service ending.
//
// Started by start_host_network (host_network.cpp), which sends the settings as one JSON
// message on <fd> (a socketpair; the credential never appears in argv or the environment) and
// waits for the one-line answer: {"ok":true,...} once the listeners accept, else {"error":...}.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "engine/image/host_network.hpp"
#include "engine/image/host_network_files.hpp"
#include "engine/native/paths.hpp"
#include "engine/native/state_dir.hpp"
#include "net/network_service.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::engine::image {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void log_line(const std::string& text) {
  // stderr is host.log (set up by the launcher).
  std::string line = "[claude-container network] " + text + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void send_line(int fd, const json& j) {
  std::string line = j.dump() + "\n";
  (void)write_all(fd, line);
}

// A listening unix socket named `name` in the directory `dir_fd`, with `mode`. Bound through
// /proc/self/fd so a long state path never exceeds sun_path; the umask makes the mode exact from
// the start (no window in which the socket has another).
UniqueFd unix_listener(int dir_fd, const std::string& name, mode_t mode, bool non_blocking) {
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) throw_errno("cannot remove the old socket " + name);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0), 0));
  if (!fd) throw_errno("cannot create a unix socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dir_fd, name.c_str());
  mode_t old = ::umask(static_cast<mode_t>(0777 & ~mode));
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::umask(old);
  if (rc != 0) throw Error(errno_message("cannot create the socket " + name, err));
  if (::listen(fd.get(), 512) != 0) throw_errno("cannot listen on " + name);
  return fd;
}

net::CredentialKind kind_from_text(const std::string& text) {
  if (text == "api_key") return net::CredentialKind::api_key;
  if (text == "oauth_token") return net::CredentialKind::oauth_token;
  throw usage_error("the credential kind sent to the network host side is unknown (" + text + ").");
}

struct Settings {
  fs::path state_dir;
  fs::path audit_log;
  config::Network network;
  std::optional<net::NetworkServiceGateway> gateway;
};

Settings parse_settings(const std::string& text) {
  Settings s;
  try {
    json j = json::parse(text);
    s.state_dir = j.at("state_dir").get<std::string>();
    s.audit_log = j.at("audit_log").get<std::string>();
    s.network = network_from_json(j.at("network"));
    if (j.contains("gateway")) {
      const auto& g = j.at("gateway");
      net::NetworkServiceGateway gateway;
      gateway.upstream = g.at("upstream").get<std::string>();
      gateway.extra_ca_pem = g.at("ca_pem").get<std::string>();
      gateway.credential.kind = kind_from_text(g.at("kind").get<std::string>());
      gateway.credential.value = g.at("value").get<std::string>();
      s.gateway = std::move(gateway);
    }
  } catch (const json::exception& e) {
    throw usage_error(std::string("the settings sent to the network host side are malformed (") + e.what() + ").");
  }
  if (!s.state_dir.is_absolute() || !s.audit_log.is_absolute()) throw usage_error("the network host side needs absolute paths.");
  return s;
}

class HostSide {
 public:
  HostSide(Settings settings, int channel) : settings_(std::move(settings)), files_(settings_.state_dir), channel_(channel) {}

  int run() {
    if (!native::check_private_dir(settings_.state_dir)) throw Error(settings_.state_dir.string() + " does not exist; start the container again.");
    native::ensure_private_dir(files_.dir);
    take_lock();
    UniqueFd sockets = open_host_network_socket_dir(settings_.state_dir).fd;
    UniqueFd dir(::open(files_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) throw_errno("cannot open " + files_.dir.string());

    net::NetworkServiceSpec spec;
    const bool proxy = settings_.network.policy == config::NetworkPolicy::isolated ||
                       settings_.network.policy == config::NetworkPolicy::development;
    if (proxy) spec.proxy_listeners.push_back(unix_listener(sockets.get(), kProxySocketName, 0666, true));
    if (settings_.gateway) spec.gateway_listeners.push_back(unix_listener(sockets.get(), kGatewaySocketName, 0666, true));
    if (!proxy && !settings_.gateway) throw usage_error("the network host side has nothing to serve under this policy without a gateway.");
    const bool gateway = !spec.gateway_listeners.empty();
    spec.network = settings_.network;
    spec.audit_log = settings_.audit_log;
    spec.gateway = settings_.gateway;
    control_ = unix_listener(dir.get(), "control.sock", 0600, false);

    service_.emplace(net::NetworkService::launch(std::move(spec)));
    settings_.gateway.reset();  // the service holds the credential now

    HostNetworkRecord record;
    record.pid = ::getpid();
    record.start_time = native::process_start_time(record.pid);
    record.service_pid = service_->pid();
    record.service_start_time = native::process_start_time(record.service_pid);
    record.boot_id = native::current_boot_id();
    record.proxy = proxy;
    record.gateway = gateway;
    native::write_runtime_file(files_.record(), record_to_json(record).dump() + "\n");
    recorded_ = true;

    send_line(channel_, {{"ok", true}, {"pid", record.pid}});
    ::close(channel_);
    channel_ = -1;
    log_line("serving (pid " + std::to_string(record.pid) + ", network service pid " + std::to_string(record.service_pid) + ")");
    int status = serve();
    finish(status == 0);
    return status;
  }

  void report_failure(const std::string& message) {
    log_line(message);
    if (lock_) finish(!recorded_);  // never remove what another host side, holding the lock, made
    // After the clean-up, so the launcher sees the sockets gone; with our pid, so it can wait
    // for us to end.
    if (channel_ >= 0) send_line(channel_, {{"error", message}, {"pid", ::getpid()}});
  }

 private:
  // lock_ is set only once the lock is ours: report_failure cleans up only then.
  void take_lock() {
    UniqueFd fd(::open(files_.lock().c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) throw_errno("cannot open " + files_.lock().string());
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK) throw Error("the container's network host side already runs (" + files_.lock().string() + " is locked); stop the container first.");
      throw_errno("cannot lock " + files_.lock().string());
    }
    lock_ = std::move(fd);
  }

  int serve() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC));
    if (!signals) throw_errno("cannot create a signalfd");
    for (;;) {
      pollfd fds[3] = {{control_.get(), POLLIN, 0}, {signals.get(), POLLIN, 0}, {service_->pidfd(), POLLIN, 0}};
      int rc = ::poll(fds, 3, -1);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) throw_errno("cannot wait for requests");
      if (fds[1].revents != 0) {
        log_line("stopping on a signal");
        return 0;
      }
      if (fds[2].revents != 0) {
        log_line("the network service ended on its own; nothing inside reaches the network until the container restarts");
        return 1;
      }
      if ((fds[0].revents & POLLIN) != 0 && answer_one()) return 0;
    }
  }

  // One request line, one reply line. True when the request was `stop`.
  bool answer_one() {
    UniqueFd client(::accept4(control_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) return false;
    timeval timeout{2, 0};  // a client that sends nothing cannot hold the host side up
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::string text;
    char buf[65536];
    while (text.find('\n') == std::string::npos && text.size() < kMaxHostNetworkMessage) {
      ssize_t n = ::read(client.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    bool stop = false;
    json reply;
    try {
      json request = json::parse(text.substr(0, text.find('\n')));
      const std::string op = request.at("op").get<std::string>();
      if (op == "status") {
        auto stats = service_->stats();
        reply = {{"ok", true}, {"pid", ::getpid()}, {"allowed", stats.allowed}, {"denied", stats.denied}, {"gateway_requests", stats.gateway_requests}};
      } else if (op == "reload") {
        auto network = network_from_json(request.at("network"));
        if (network.policy != settings_.network.policy) {
          throw usage_error("the network policy changed from " + config::to_string(settings_.network.policy) + " to " +
                            config::to_string(network.policy) + "; restart the container to apply it.");
        }
        service_->set_network(network);
        settings_.network = network;
        log_line("network policy reloaded");
        reply = {{"ok", true}};
      } else if (op == "stop") {
        stop = true;
        reply = {{"ok", true}};
      } else {
        reply = {{"error", "unknown request \"" + op + "\""}};
      }
    } catch (const std::exception& e) {
      reply = {{"error", e.what()}};
    }
    send_line(client.get(), reply);
    return stop;
  }

  // Leaves nothing behind: the service, the sockets, the control socket and the record. After
  // a failure the record stays, so the next command reports what happened.
  void finish(bool clean) {
    if (service_) service_->stop();
    service_.reset();
    remove_host_network_sockets(settings_.state_dir);
    std::error_code ec;
    fs::remove(files_.control(), ec);
    if (clean) fs::remove(files_.record(), ec);
    if (clean) log_line("stopped");  // after a failure, the reason stays the log's last line
  }

  Settings settings_;
  HostNetworkFiles files_;
  int channel_;
  bool recorded_ = false;
  UniqueFd lock_;
  UniqueFd control_;
  std::optional<net::NetworkService> service_;
};

int host_network_main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "claude-container: " << kImageNetworkVerb << " is internal; it is started by `start` on an image engine.\n";
    return 2;
  }
  char* end = nullptr;
  long fd = std::strtol(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0' || fd < 3 || fd > 1024) {
    std::cerr << "claude-container: " << kImageNetworkVerb << " got a bad channel.\n";
    return 2;
  }
  int channel = static_cast<int>(fd);
  ::fcntl(channel, F_SETFD, FD_CLOEXEC);
  ::signal(SIGPIPE, SIG_IGN);
  std::string text;
  if (!read_all_bounded(channel, kMaxHostNetworkMessage, text)) {
    log_line("cannot read the settings from the launcher");
    return 1;
  }
  std::optional<HostSide> side;
  try {
    side.emplace(parse_settings(text), channel);
    return side->run();
  } catch (const std::exception& e) {
    if (side) {
      side->report_failure(e.what());
    } else {
      send_line(channel, {{"error", e.what()}, {"pid", ::getpid()}});
      log_line(e.what());
    }
    return 1;
  }
}

}  // namespace

void image_network_main(int argc, char** argv) { std::exit(host_network_main(argc, argv)); }

}  // namespace cc::engine::image
