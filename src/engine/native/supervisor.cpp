#include "engine/native/supervisor.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <initializer_list>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "config/config_io.hpp"
#include "engine/native/cgroups.hpp"
#include "engine/native/control.hpp"
#include "engine/native/hardening.hpp"
#include "engine/native/id_mapping.hpp"
#include "engine/native/init_image.hpp"
#include "engine/native/oom_watch.hpp"
#include "engine/native/resident_pages.hpp"
#include "engine/native/resource_limits.hpp"
#include "engine/native/supervisor_spec_io.hpp"
#include "integrations/git_broker.hpp"
#include "integrations/git_setup.hpp"
#include "net/audit_log.hpp"
#include "net/credential_gateway.hpp"
#include "net/network_service.hpp"
#include "net/pasta.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

extern char** environ;

namespace cc::engine::native {

namespace {

using Clock = std::chrono::steady_clock;

// CLOCK_MONOTONIC in ns: the same clock in the CLI and the supervisor it launches.
std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void log(const std::string& text) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = std::string("[supervisor ") + stamp + "] " + text + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

class Supervisor {
 public:
  Supervisor(const SupervisorSpec& spec, int ready_fd) : spec_(spec), ready_fd_(ready_fd) {}

  // Whatever is thrown, this process ends here, in _exit: nothing unwinds past it.
  [[noreturn]] void run() noexcept {
    bool started = false;
    try {
      start();
      started = true;
      ssize_t ignored = ::write(ready_fd_, "OK", 2);
      (void)ignored;
      ::close(ready_fd_);
      ready_fd_ = -1;
      loop();
    } catch (const std::exception& e) {
      fail(e.what(), started);
    } catch (...) {
      fail("an unknown error", started);
    }
    try {
      cleanup();
    } catch (...) {
      log("cleanup failed; some of the container's state may remain (the next start removes it)");
      ::_exit(1);
    }
    ::_exit(started ? 0 : 1);
  }

 private:
  void fail(const char* what, bool started) noexcept {
    try {
      log(std::string(started ? "failed: " : "start failed: ") + what);
      if (!started) {
        std::string message = std::string("E") + what;
        ssize_t ignored = ::write(ready_fd_, message.data(), message.size());
        (void)ignored;
      }
    } catch (...) {
    }
  }

  void start() {
    const auto& paths = spec_.paths;
    alive_.reset(::open(paths.alive_lock().c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    // A supervisor that just stopped on its own releases this lock a moment after removing its
    // state; wait briefly for it rather than failing the start.
    bool locked = false;
    for (int attempt = 0; alive_ && attempt < 300 && !locked; ++attempt) {
      locked = ::flock(alive_.get(), LOCK_EX | LOCK_NB) == 0;
      if (!locked) ::usleep(10000);
    }
    if (!locked) {
      throw Error("another supervisor already runs this container (" + paths.alive_lock().string() + " is locked).");
    }
    if (::chdir(paths.state_dir.c_str()) != 0) throw_errno("cannot enter " + paths.state_dir.string());
    ::unlink("control.sock");
    listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, "control.sock");
    if (!listener_ || ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listener_.get(), 16) != 0) {
      throw_errno("cannot create the control socket " + paths.control_socket().string());
    }

    SandboxPlan plan = spec_.sandbox;
    ::unlink(oom_record(paths.state_dir).c_str());  // a new run
    // The CLI that launched us leaves a cgroup v2 parent with us (cgroups.hpp); it exits soon.
    CgroupSetup cgroups = create_cgroups(paths.key, spec_.config.resources, {::getpid(), spec_.launcher_pid});
    oom_ = OomWatch(cgroups.memory_dir, cgroups.memory_v2, spec_.config.resources.memory_text);
    plan.cgroup_dirs = cgroups.dirs;
    cgroup_dirs_ = cgroups.dirs;
    const bool refuse_suid = spec_.config.storage.type == config::StorageType::bind;
    plan.hardening.seccomp = load_seccomp_filter(paths.seccomp_cache(refuse_suid));
    if (plan.hardening.seccomp.empty()) {
      plan.hardening.seccomp = build_seccomp_filter(refuse_suid);
      save_seccomp_filter(paths.seccomp_cache(refuse_suid), plan.hardening.seccomp);
      remove_stale_seccomp_caches(paths.state_dir, ContainerPaths::seccomp_key());
    }

    const auto policy = spec_.config.network.policy;
    std::optional<std::string> pasta;
    if (policy == config::NetworkPolicy::full) pasta = net::find_pasta();
    // The CLI refused `full` without pasta unless host_network was asked for; check again here.
    if (policy == config::NetworkPolicy::full && !pasta && !spec_.config.network.host_network) {
      throw Error("pasta (passt) is not installed and network.host_network is not true; refusing the host network.");
    }
    plan.own_netns = policy != config::NetworkPolicy::full || pasta.has_value();
    plan.proxy_listeners = policy == config::NetworkPolicy::isolated || policy == config::NetworkPolicy::development;
    const bool gateway = spec_.gateway_credential.has_value();
    // The CLI refused this already: on the host's network the gateway's port would be on its
    // loopback, usable by every local process.
    if (gateway && !plan.own_netns) {
      throw Error("the credential gateway needs a network namespace of the container's own, and this container would "
                  "share the host's network.");
    }
    plan.gateway_listeners = gateway;
    if (gateway) {
      // pid 1 starts as a copy of this process: it wipes its copy of the credential first.
      auto& value = const_cast<std::string&>(spec_.gateway_credential->value);
      plan.wipe_data = value.data();
      plan.wipe_size = value.size();
    }

    prepare_git(plan);
    prepare_idmapped_mounts(plan);
    auto before_image = Clock::now();
    init_image_ = sealed_init_image();
    plan.init_image_fd = init_image_.get();
    plan.keep_fds.insert(std::upper_bound(plan.keep_fds.begin(), plan.keep_fds.end(), init_image_.get()),
                         init_image_.get());
    const auto image_time = Clock::now() - before_image;
    plan_private_fds(plan.rootfs, {paths.state_dir.string(), paths.data_dir.string()});
    auto before_sandbox = Clock::now();
    sandbox_ = spawn_sandbox(plan);
    idmapped_.clear();  // attached inside by now; our references go
    init_image_.reset();  // pid 1 executed it
    auto ms = [](Clock::duration d) {
      char text[32];
      std::snprintf(text, sizeof(text), "%.1f", std::chrono::duration<double, std::milli>(d).count());
      return std::string(text);
    };
    const double launch_ms = spec_.launched_ns > 0 ? static_cast<double>(started_ns_ - spec_.launched_ns) / 1e6 : 0.0;
    char launch[32];
    std::snprintf(launch, sizeof(launch), "%.1f", launch_ms);
    log("container started: pid 1 is host pid " + std::to_string(sandbox_.pid) + " (launch and re-exec " + launch +
        " ms, supervisor set-up " +
        ms(before_sandbox - started_) + " ms, of which pid 1's sealed image (" + std::to_string(init_image_size() / 1024) +
        " KiB) " + ms(image_time) + " ms; sandbox " + ms(Clock::now() - before_sandbox) + " ms)");

    RunState state;
    state.notes = spec_.notes;
    if (pasta) {
      pasta_pid_ = net::attach_pasta(*pasta, sandbox_.pid);
      state.network_mode = "pasta";
    } else if (policy == config::NetworkPolicy::full) {
      state.network_mode = "host network";
      state.notes.push_back(
          "network.host_network is true and pasta (passt) is not installed, so the container shares this machine's "
          "network namespace: services on its loopback and abstract unix sockets are reachable from inside. "
          "Install passt for a namespace of its own.");
    } else if (policy == config::NetworkPolicy::none) {
      state.network_mode = "none (loopback only)";
    } else {
      state.network_mode = "proxy";
    }
    if (plan.proxy_listeners || gateway) start_network_service();
    if (git_broker_) git_thread_ = std::thread([this] { git_broker_->run(); });
    if (gateway) {
      state.credential_kind =
          spec_.gateway_credential->kind == net::CredentialKind::api_key ? "api_key" : "oauth_token";
      state.credential_origin = spec_.gateway_origin;
    }
    if (!sandbox_.cgroup_problem.empty()) state.notes.push_back(sandbox_.cgroup_problem);

    state.supervisor_pid = ::getpid();
    state.init_pid = sandbox_.pid;
    state.init_start_time = process_start_time(sandbox_.pid);
    state.started_at = static_cast<std::int64_t>(std::time(nullptr));
    state.boot_id = current_boot_id();
    state.project_dir = spec_.project_dir.string();
    state.own_netns = plan.own_netns;
    state.cgroup_dirs = cgroup_dirs_;
    state.mounts = plan.rootfs.described;
    state.limits = cgroups.limits;
    for (auto& l : hardening_status(plan.hardening)) state.limits.push_back(l);
    for (auto& l : tmpfs_status(spec_.config.resources)) state.limits.push_back(l);
    write_runtime_file(paths.state_file(), serialize_run_state(state));
  }

  // The proxy and the gateway parse what the sandbox sends: they run in a confined process of
  // their own (net/network_service.hpp), whatever they throw ends at most that process, and
  // reap_helpers logs it. They get the listeners the sandbox made; ours are closed.
  void start_network_service() {
    net::NetworkServiceSpec service;
    service.proxy_listeners = std::move(sandbox_.listeners);
    service.gateway_listeners = std::move(sandbox_.gateway_listeners);
    service.network = integrations::network_with_git(spec_.config);
    // The service may write only in the audit log's directory, so that holds nothing else.
    const auto audit = spec_.paths.audit_log();
    if (::mkdir(audit.parent_path().c_str(), 0700) != 0 && errno != EEXIST)
      throw_errno("cannot create the network audit directory " + audit.parent_path().string());
    service.audit_log = audit;
    if (spec_.gateway_credential) {
      service.gateway = net::NetworkServiceGateway{spec_.config.credentials.upstream, spec_.gateway_ca_pem,
                                                   *spec_.gateway_credential};
    }
    const auto before = Clock::now();
    network_ = net::NetworkService::launch(std::move(service));
    char took[32];
    std::snprintf(took, sizeof took, "%.1f", std::chrono::duration<double, std::milli>(Clock::now() - before).count());
    log("network service started as pid " + std::to_string(network_->pid()) + " (" + took + " ms)");
    if (spec_.gateway_credential) {
      log("credential gateway listening on 127.0.0.1:" + std::to_string(net::kGatewayPort) + " inside, " +
          (spec_.gateway_credential->kind == net::CredentialKind::api_key ? "an API key" : "an OAuth token") +
          " from " + spec_.gateway_origin + ", forwarding to " + spec_.config.credentials.upstream);
    }
  }

  // git.credentials: the sockets the container's git directory offers are made before pid 1
  // exists, and pid 1 wipes its copy of the token like the gateway's credential.
  void prepare_git(SandboxPlan& plan) {
    const auto& git = spec_.git;
    if (git.token.empty() && git.agent_socket.empty()) return;
    integrations::GitBrokerOptions options;
    options.dir = "git";  // relative to the state directory we run in: socket paths stay short
    options.host = spec_.config.git.host;
    if (!git.token.empty()) options.token = &git.token;
    options.agent_socket = git.agent_socket;
    git_broker_ = std::make_unique<integrations::GitBroker>(std::move(options));
    if (!git.token.empty()) {
      auto& token = const_cast<std::string&>(git.token);
      plan.wipe_git_data = token.data();
      plan.wipe_git_size = token.size();
    }
  }

  // As root, the mounts that must be idmapped are made here, with the host's privileges the
  // kernel requires for MOUNT_ATTR_IDMAP, and attached by the sandbox child.
  void prepare_idmapped_mounts(SandboxPlan& plan) {
    std::optional<UniqueFd> userns;
    uid_t userns_owner = 0;
    gid_t userns_group = 0;
    for (auto& step : plan.rootfs.steps) {
      if (step.kind != MountStep::Kind::attach || !step.idmapped) continue;
      struct stat st {};
      if (::stat(step.source.c_str(), &st) != 0) throw_errno("cannot inspect " + step.source);
      if (!userns || userns_owner != st.st_uid || userns_group != st.st_gid) {
        userns = make_idmap_userns(st.st_uid, st.st_gid, spec_.range);
        userns_owner = st.st_uid;
        userns_group = st.st_gid;
      }
      UniqueFd tree = idmapped_clone(step.source, userns->get(), step.read_only);
      step.fd = tree.get();
      plan.keep_fds.push_back(tree.get());
      idmapped_.push_back(std::move(tree));
    }
    std::sort(plan.keep_fds.begin(), plan.keep_fds.end());
  }

  void begin_stop(int grace_seconds) {
    if (!stopping_) {
      stopping_ = true;
      log("stopping: SIGTERM to pid 1, SIGKILL after " + std::to_string(grace_seconds) + "s");
      ::syscall(SYS_pidfd_send_signal, sandbox_.pidfd.get(), grace_seconds > 0 ? SIGTERM : SIGKILL, nullptr, 0);
      kill_at_ = Clock::now() + std::chrono::seconds(grace_seconds);
    }
  }

  // One client of the control socket: non-blocking, so a slow or silent one holds up nothing.
  struct ControlClient {
    UniqueFd fd;
    std::string in, out;
    bool answered = false;     // its one request was read
    bool stop_waiter = false;  // gets its reply when the container stopped
    Clock::time_point deadline;
  };
  static constexpr std::size_t kMaxControlClients = 32;
  static constexpr auto kControlClientTime = std::chrono::seconds(5);  // to send a request / take a reply

  nlohmann::json status_reply() {
    net::NetworkServiceStats stats;
    if (network_) {
      try {
        stats = network_->stats();
      } catch (const std::exception& e) {
        log(std::string("no statistics from the network service: ") + e.what());
        stats.denied = net::count_denials(spec_.paths.audit_log());
      }
    }
    return {{"ok", true}, {"allowed", stats.allowed}, {"denied", stats.denied}};
  }

  nlohmann::json reload_policy() {
    // The copy the CLI validated and stored, never the project's file (see effective_config).
    auto text = read_private_file(spec_.paths.effective_config(), 1 << 20);
    if (!text) throw Error("the stored configuration " + spec_.paths.effective_config().string() + " is missing");
    config::Config cfg = config::parse_config(*text, spec_.paths.effective_config().string());
    if (network_) network_->set_network(integrations::network_with_git(cfg));
    log("network policy reloaded");
    return {{"ok", true}};
  }

  void answer(ControlClient& client, std::string_view line) {
    client.answered = true;
    auto parsed = parse_control_request(line);
    if (auto* why = std::get_if<std::string>(&parsed)) {
      client.out = control_error_reply(*why);
      return;
    }
    const auto& request = std::get<ControlRequest>(parsed);
    try {
      switch (request.op) {
        case ControlRequest::Op::status:
          client.out = control_reply(status_reply());
          break;
        case ControlRequest::Op::reload:
          client.out = control_reply(reload_policy());
          break;
        case ControlRequest::Op::stop:
          begin_stop(request.stop_grace_seconds);
          client.stop_waiter = true;  // answered in cleanup(), however long the stop takes
          break;
      }
    } catch (const std::exception& e) {
      client.out = control_error_reply(e.what());
    }
  }

  void accept_clients() {
    for (;;) {
      UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (!fd) return;
      if (clients_.size() >= kMaxControlClients) continue;  // closed: try again later
      clients_.push_back(ControlClient{std::move(fd), {}, {}, false, false, Clock::now() + kControlClientTime});
    }
  }

  // Reads what is there, answers a complete line, writes what fits. False: done with it.
  bool serve(ControlClient& client, short revents) {
    if (!client.answered && (revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[1024];
      for (;;) {
        ssize_t n = ::recv(client.fd.get(), buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) return false;  // gone before asking
        client.in.append(buf, static_cast<size_t>(n));
        if (auto end = client.in.find('\n'); end != std::string::npos) {
          answer(client, std::string_view(client.in).substr(0, end));
          client.in.clear();
          break;
        }
        if (client.in.size() > kMaxControlLine) {
          client.answered = true;
          client.out = control_error_reply("the request is longer than " + std::to_string(kMaxControlLine) + " bytes");
          client.in.clear();
          break;
        }
      }
    }
    if (!client.out.empty()) {
      ssize_t n = ::send(client.fd.get(), client.out.data(), client.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
      if (n > 0) client.out.erase(0, static_cast<size_t>(n));
      if (client.out.empty()) return false;  // one request, one reply
    }
    return client.stop_waiter || Clock::now() < client.deadline;
  }

  void loop() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    std::vector<pollfd> fds;
    for (;;) {
      auto now = Clock::now();
      std::optional<Clock::time_point> wake = kill_at_;
      for (const auto& c : clients_) {
        if (!c.stop_waiter && (!wake || c.deadline < *wake)) wake = c.deadline;
      }
      if (trim_at_ && (!wake || *trim_at_ < *wake)) wake = trim_at_;
      int timeout = oom_.poll_timeout_ms();
      if (wake) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*wake - now).count();
        int until = left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 60000)) + 1;
        timeout = timeout < 0 ? until : std::min(timeout, until);
      }
      fds.assign({{sandbox_.pidfd.get(), POLLIN, 0},
                  {listener_.get(), POLLIN, 0},
                  {sfd.get(), POLLIN, 0},
                  {oom_.fd(), oom_.events(), 0}});
      constexpr std::size_t kFirstClient = 4;
      for (const auto& c : clients_) {
        short events = c.answered ? (c.out.empty() ? 0 : POLLOUT) : POLLIN;
        fds.push_back({c.fd.get(), events, 0});
      }
      int rc = ::poll(fds.data(), fds.size(), timeout);
      if (rc < 0 && errno != EINTR) break;
      report_oom();  // one small read; the eventfd (v1) misses some kills
      if (fds[0].revents & POLLIN) break;  // pid 1 exited
      if (fds[2].revents & POLLIN) {
        signalfd_siginfo info;
        while (::read(sfd.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
          if (info.ssi_signo != SIGCHLD) begin_stop(kDefaultStopGraceSeconds);
        }
        reap_helpers();
      }
      // Clients first (their descriptors are at fixed places in `fds`), then new ones.
      std::vector<ControlClient> kept;
      for (std::size_t i = 0; i < clients_.size(); ++i) {
        if (serve(clients_[i], rc > 0 ? fds[kFirstClient + i].revents : 0)) kept.push_back(std::move(clients_[i]));
      }
      clients_ = std::move(kept);
      if (fds[1].revents & POLLIN) accept_clients();
      // Control requests and signals are activity; the OOM watch's periodic reads are not.
      bool active = rc > 0 && (fds[1].revents != 0 || fds[2].revents != 0);
      for (std::size_t i = kFirstClient; rc > 0 && i < fds.size(); ++i) active = active || fds[i].revents != 0;
      if (active) trim_at_ = Clock::now() + kIdleBeforeTrim;
      if (trim_at_ && Clock::now() >= *trim_at_) {
        // Idle for a while: give back what the start-up (or the last request) left free on the
        // heap, and unmap the code and read-only data only that used (resident_pages.hpp).
        ::malloc_trim(0);
        unmap_clean_file_pages();
        trim_at_.reset();
      }
      if (kill_at_ && Clock::now() >= *kill_at_) {
        log("grace period over: SIGKILL to pid 1");
        ::syscall(SYS_pidfd_send_signal, sandbox_.pidfd.get(), SIGKILL, nullptr, 0);
        kill_at_.reset();
      }
    }
  }

  void report_oom() {
    if (auto sentence = oom_.check()) log(*sentence);
  }

  void reap_helpers() {
    int status;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == sandbox_.pid) init_status_ = status;
      if (pid == pasta_pid_) pasta_pid_ = -1;
      if (network_ && pid == network_->pid()) {
        log(WIFEXITED(status) ? "the network service exited with status " + std::to_string(WEXITSTATUS(status)) +
                                    "; the container's proxy and gateway no longer answer"
                              : "the network service was killed by signal " + std::to_string(WTERMSIG(status)) +
                                    "; the container's proxy and gateway no longer answer");
      }
    }
  }

  void cleanup() {
    network_.reset();  // stops and reaps the network service
    if (git_broker_) git_broker_->stop();
    if (git_thread_.joinable()) git_thread_.join();
    git_broker_.reset();
    if (sandbox_.pid > 0) {
      ::syscall(SYS_pidfd_send_signal, sandbox_.pidfd.get(), SIGKILL, nullptr, 0);
      int status = 0;
      if (::waitpid(sandbox_.pid, &status, 0) == sandbox_.pid) init_status_ = status;
      if (init_status_) {
        int s = *init_status_;
        log(WIFEXITED(s) ? "pid 1 exited with status " + std::to_string(WEXITSTATUS(s))
                         : "pid 1 was killed by signal " + std::to_string(WTERMSIG(s)));
      }
    }
    if (pasta_pid_ > 0) {
      ::kill(pasta_pid_, SIGTERM);
      ::waitpid(pasta_pid_, nullptr, 0);
    }
    report_oom();  // pid 1 itself may have been the one killed
    if (auto summary = oom_.summary()) {
      try {
        write_runtime_file(oom_record(spec_.paths.state_dir), *summary + "\n");
      } catch (const std::exception& e) {
        log(std::string("cannot record the OOM kills for status: ") + e.what());
      }
    }
    // Processes that joined by exec die with the pid namespace; their cgroup empties shortly after.
    for (const auto& dir : cgroup_dirs_) {
      for (int attempt = 0; attempt < 50 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++attempt) ::usleep(10000);
    }
    ::unlink(spec_.paths.state_file().c_str());
    ::unlink(spec_.paths.control_socket().c_str());
    log("container stopped");
    alive_.reset();  // a new supervisor may start from here on
    const std::string stopped = control_reply({{"ok", true}, {"stopped", true}});
    for (auto& client : clients_) {
      if (!client.stop_waiter) continue;
      // A small reply into an idle socket's buffer: it fits, or that client gets none.
      ssize_t ignored = ::send(client.fd.get(), stopped.data(), stopped.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      (void)ignored;
    }
    clients_.clear();
  }

  const SupervisorSpec& spec_;
  int ready_fd_;
  OomWatch oom_;
  Clock::time_point started_ = Clock::now();
  std::int64_t started_ns_ = monotonic_ns();
  UniqueFd alive_;
  UniqueFd listener_;
  Sandbox sandbox_;
  std::vector<std::string> cgroup_dirs_;
  std::vector<UniqueFd> idmapped_;
  UniqueFd init_image_;
  pid_t pasta_pid_ = -1;
  std::optional<net::NetworkService> network_;
  std::unique_ptr<integrations::GitBroker> git_broker_;
  std::thread git_thread_;
  bool stopping_ = false;
  std::optional<Clock::time_point> kill_at_;
  static constexpr auto kIdleBeforeTrim = std::chrono::seconds(1);
  std::optional<Clock::time_point> trim_at_ = Clock::now() + kIdleBeforeTrim;
  std::optional<int> init_status_;
  std::vector<ControlClient> clients_;
};

// Descriptors of the re-executed supervisor (launch_supervisor arranges them before exec).
constexpr int kReadyFd = 3;
constexpr int kSpecFd = 4;
constexpr int kExeFd = 5;

// Only what the supervisor needs of the caller's environment: PATH (pasta is looked up there)
// and the sanitizer settings of an instrumented build. Never a token.
std::vector<std::string> supervisor_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = entry.substr(0, eq);
    constexpr std::string_view sanitizer = "SAN_OPTIONS";  // ASAN_OPTIONS, UBSAN_OPTIONS, ...
    const bool sanitizer_options = name.size() > sanitizer.size() && name.substr(name.size() - sanitizer.size()) == sanitizer;
    if (name == "PATH" || sanitizer_options) env.emplace_back(entry);
  }
  return env;
}

// In the detached grandchild, before exec: stdio to the log, the ready pipe, the spec socket
// and the binary at fixed numbers, nothing else of the caller's descriptors. Async-signal-safe.
[[noreturn]] void exec_supervisor(int log_fd, int null_fd, int ready_fd, int spec_fd, int exe_fd, char* const* argv,
                                  char* const* envp) noexcept {
  // Out of the way of the target numbers first, so no dup2 overwrites a source.
  int sources[5] = {log_fd, null_fd, ready_fd, spec_fd, exe_fd};
  for (int& fd : sources) {
    fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 16);
    if (fd < 0) ::_exit(1);
  }
  if (::dup2(sources[1], 0) < 0 || ::dup2(sources[0], 1) < 0 || ::dup2(sources[0], 2) < 0 ||
      ::dup2(sources[2], kReadyFd) < 0 || ::dup2(sources[3], kSpecFd) < 0 || ::dup3(sources[4], kExeFd, O_CLOEXEC) < 0) {
    ::_exit(1);
  }
  ::syscall(SYS_close_range, kExeFd + 1, ~0U, 0);
  ::umask(022);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::syscall(SYS_execveat, kExeFd, "", argv, envp, AT_EMPTY_PATH);
  const char message[] = "Ecannot execute this program again as the container's supervisor";
  ssize_t ignored = ::write(kReadyFd, message, sizeof(message) - 1);
  (void)ignored;
  ::_exit(1);
}

// Reads the whole spec (the caller shuts its end down after sending), bounded.
std::string read_spec(int fd) {
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read the supervisor's spec");
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > kMaxSupervisorSpecBytes) throw Error("the supervisor's spec is too large");
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

void supervisor_main(int /*argc*/, char** /*argv*/) {
  remember_startup_objects();  // before any thread exists (resident_pages.hpp)
  struct stat ready {}, spec_st {};
  if (::fstat(kReadyFd, &ready) != 0 || !S_ISFIFO(ready.st_mode) || ::fstat(kSpecFd, &spec_st) != 0 ||
      !S_ISSOCK(spec_st.st_mode)) {
    const char message[] = "claude-container: __supervisor is internal; `claude-container start` runs it.\n";
    ssize_t ignored = ::write(STDERR_FILENO, message, sizeof(message) - 1);
    (void)ignored;
    ::_exit(2);
  }
  ::fcntl(kReadyFd, F_SETFD, FD_CLOEXEC);
  ::fcntl(kSpecFd, F_SETFD, FD_CLOEXEC);
  std::optional<SupervisorSpec> spec;
  try {
    std::string text = read_spec(kSpecFd);
    ::close(kSpecFd);
    spec = parse_supervisor_spec(text);
    ::explicit_bzero(text.data(), text.size());
  } catch (const std::exception& e) {
    std::string message = std::string("E") + e.what();
    ssize_t ignored = ::write(kReadyFd, message.data(), message.size());
    (void)ignored;
    ::_exit(1);
  } catch (...) {
    ::_exit(1);
  }
  Supervisor(*spec, kReadyFd).run();
}

RunState launch_supervisor(const SupervisorSpec& spec) {
  // Everything the child needs is made before fork: after it, only async-signal-safe calls.
  UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) throw_errno("cannot open this program (/proc/self/exe) to start the supervisor");
  UniqueFd log_fd(::open(spec.paths.log_file().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!log_fd) throw_errno("cannot open the container log " + spec.paths.log_file().string());
  UniqueFd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_fd) throw_errno("cannot open /dev/null");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd ready_read(fds[0]), ready_write(fds[1]);
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw_errno("socketpair");
  UniqueFd spec_ours(fds[0]), spec_theirs(fds[1]);
  SupervisorSpec timed = spec;
  timed.launched_ns = monotonic_ns();
  std::string message = serialize_supervisor_spec(timed);
  ::explicit_bzero(timed.git.token.data(), timed.git.token.size());
  if (timed.gateway_credential) ::explicit_bzero(timed.gateway_credential->value.data(), timed.gateway_credential->value.size());
  struct Wipe {
    std::string& text;
    ~Wipe() { ::explicit_bzero(text.data(), text.size()); }
  } wipe{message};
  // The project in the command line says in `ps` which container this supervisor runs.
  std::string arg0 = "claude-container", arg1 = kSupervisorVerb, arg2 = spec.project_dir.string();
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  std::vector<std::string> env = supervisor_environment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::fflush(nullptr);
  pid_t first = ::fork();
  if (first < 0) throw_errno("cannot fork the supervisor");
  if (first == 0) {
    // Own session, then fork again so the supervisor is no session leader and never gets a
    // controlling terminal; the intermediate process exits at once.
    ::setsid();
    pid_t second = ::fork();
    if (second != 0) ::_exit(second < 0 ? 1 : 0);
    exec_supervisor(log_fd.get(), null_fd.get(), ready_write.get(), spec_theirs.get(), exe.get(), argv, envp.data());
  }
  ready_write.reset();
  spec_theirs.reset();
  int status = 0;
  while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
  }
  // The supervisor reads as we write; if it died first, the answer below says why.
  size_t sent = 0;
  while (sent < message.size()) {
    ssize_t n = ::send(spec_ours.get(), message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  spec_ours.reset();
  std::string answer;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(ready_read.get(), buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0 && answer.size() < 64 * 1024) answer.append(buf, static_cast<size_t>(n));
  }
  if (answer.rfind("OK", 0) == 0) {
    auto text = read_private_file(spec.paths.state_file());
    if (!text) throw Error("the supervisor started but wrote no state file " + spec.paths.state_file().string() + ".");
    return parse_run_state(*text);
  }
  if (!answer.empty() && answer[0] == 'E') throw Error(answer.substr(1));
  throw Error("the container's supervisor ended during startup without saying why; see " + spec.paths.log_file().string() +
              ".");
}

}  // namespace cc::engine::native
