// The CLI's side of the image engines' network host side: launching the detached process,
// and finding it again (status, reload, stop) through its lock and control socket.
#include "engine/image/host_network.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>

#include "engine/image/host_network_files.hpp"
#include "engine/native/control.hpp"
#include "engine/native/paths.hpp"
#include "engine/native/state_dir.hpp"
#include "integrations/credential_environment.hpp"
#include "net/proxy_env.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::engine::image {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string kind_text(net::CredentialKind kind) { return kind == net::CredentialKind::api_key ? "api_key" : "oauth_token"; }

// True while a host side holds its lock (a pid alone could have been reused).
bool host_alive(const HostNetworkFiles& files) {
  UniqueFd fd(::open(files.lock().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;
  return errno == EWOULDBLOCK;
}

std::optional<HostNetworkRecord> read_record(const HostNetworkFiles& files) {
  auto text = native::read_private_file(files.record(), 64 * 1024);
  if (!text) return std::nullopt;
  try {
    return record_from_json(json::parse(*text));
  } catch (const json::exception&) {
    return HostNetworkRecord{};  // damaged: remains to clean, with no pid to trust
  }
}

// Reads one line (at most `max` bytes) from `fd` within `deadline`; nullopt on timeout or EOF first.
std::optional<std::string> read_line(int fd, Clock::time_point deadline, std::size_t max) {
  std::string text;
  char buf[4096];
  while (text.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return std::nullopt;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max) return std::nullopt;
  }
  return text.substr(0, text.find('\n'));
}

// One request on the host side's control socket (the supervisor's protocol, native/control.hpp);
// nullopt when nothing answers within `timeout`.
std::optional<json> control(const HostNetworkFiles& files, const json& request, std::chrono::milliseconds timeout) {
  return native::control_call(files.dir, request, static_cast<int>(timeout.count()), 1 << 20);
}

// Kills `pid` only when it is still the process recorded (same start time).
bool kill_recorded(pid_t pid, std::uint64_t start_time) {
  if (pid <= 0 || start_time == 0 || native::process_start_time(pid) != start_time) return false;
  return ::kill(pid, SIGKILL) == 0;
}

// The last line of host.log (read from its last 4 KiB: the log only grows).
std::string log_tail(const HostNetworkFiles& files) {
  UniqueFd fd(::open(files.log().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return "";
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size <= 0 || ::lseek(fd.get(), std::max<off_t>(0, size - 4096), SEEK_SET) < 0) return "";
  std::string tail;
  if (!read_all_bounded(fd.get(), 8192, tail)) return "";
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  auto cut = tail.rfind('\n');
  return cut == std::string::npos ? tail : tail.substr(cut + 1);
}

// Removes what a host side that is gone left behind; returns what was found, one sentence.
std::string clean_remains(const HostNetworkFiles& files) {
  std::string what;
  if (auto record = read_record(files)) {
    what = "the container's network host side";
    if (record->pid > 0) what += " (pid " + std::to_string(record->pid) + ")";
    what += " ended without stopping (killed or crashed)";
    if (!record->boot_id.empty() && record->boot_id == native::current_boot_id()) {
      kill_recorded(record->pid, record->start_time);
      if (kill_recorded(record->service_pid, record->service_start_time)) {
        what += "; its network service (pid " + std::to_string(record->service_pid) + ") was killed";
      }
    }
  }
  remove_host_network_sockets(files.dir.parent_path());
  std::error_code ec;
  fs::remove(files.control(), ec);
  fs::remove(files.record(), ec);
  return what;
}

bool wait_until_gone(const HostNetworkFiles& files, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (host_alive(files)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Until `pid` is gone or a zombie (a detached process is reaped by init, not by us).
void wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
  if (pid <= 0) return;
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    auto stat = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat ? stat->rfind(')') : std::string::npos;
    if (!stat || close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] == 'Z') return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string settings_message(const HostNetworkSpec& spec, const fs::path& audit_log) {
  json j = {{"state_dir", spec.state_dir.string()}, {"audit_log", audit_log.string()}, {"network", network_to_json(spec.network)}};
  if (spec.gateway) {
    j["gateway"] = {{"upstream", spec.gateway->upstream},
                    {"ca_pem", spec.gateway->extra_ca_pem},
                    {"kind", kind_text(spec.gateway->credential.kind)},
                    {"value", spec.gateway->credential.value}};
  }
  return j.dump();
}

// Starts `program __image-network 3` detached (its own session, reparented to init) with the
// channel as fd 3, stdin /dev/null and stdout/stderr appended to host.log.
void launch_detached(const fs::path& program, int channel, int log_fd) {
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) throw_errno("cannot open /dev/null");
  const std::string prog = program.string();
  const std::string verb = kImageNetworkVerb;
  const std::string fd_text = "3";
  char* argv[] = {const_cast<char*>(prog.c_str()), const_cast<char*>(verb.c_str()), const_cast<char*>(fd_text.c_str()), nullptr};
  pid_t child = ::fork();
  if (child < 0) throw_errno("cannot start the network host side");
  if (child == 0) {
    // Only async-signal-safe calls from here on; every path ends in _exit or exec.
    ::setsid();
    // A long-lived process must not hold the caller's directory (a project, a mount) busy.
    if (::chdir("/") != 0) ::_exit(126);
    pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    if (::dup2(devnull.get(), 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
    if (channel == 3) {
      ::fcntl(3, F_SETFD, 0);
    } else if (::dup2(channel, 3) < 0) {
      ::_exit(126);
    }
    ::syscall(SYS_close_range, 4U, ~0U, 0U);  // nothing of the caller's leaks into a long-lived process
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(prog.c_str(), argv);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error("cannot start the network host side: fork failed.");
}

}  // namespace

HostNetwork start_host_network(const HostNetworkSpec& spec) {
  if (spec.network.policy == config::NetworkPolicy::full) {
    throw usage_error("the network host side serves the policies none, isolated and development; `full` uses the engine's own network.");
  }
  const bool proxy = spec.network.policy != config::NetworkPolicy::none;
  if (!proxy && !spec.gateway) throw usage_error("under the network policy none without the credential gateway there is nothing for the host side to serve.");
  if (!native::check_private_dir(spec.state_dir)) throw Error("the container's state directory " + spec.state_dir.string() + " does not exist.");
  HostNetworkFiles files(spec.state_dir);
  native::ensure_private_dir(files.dir);
  if (host_alive(files)) throw Error("the container's network host side already runs; stop the container first.");
  clean_remains(files);

  // The service may create and rotate files in the audit log's directory (Landlock), so that
  // directory holds the log and nothing else.
  // The default is where the native engine keeps it (ContainerPaths::audit_log), so `logs
  // --network` reads the same place on every engine.
  const fs::path audit_log = spec.audit_log.empty() ? spec.state_dir / "network" / "network.jsonl" : spec.audit_log;
  native::ensure_private_dir(audit_log.parent_path());
  UniqueFd log(::open(files.log().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!log) throw_errno("cannot open " + files.log().string());
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throw_errno("cannot create a socketpair");
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  const fs::path program = spec.program.empty() ? fs::path("/proc/self/exe") : spec.program;
  launch_detached(program, theirs.get(), log.get());
  theirs.reset();

  if (!write_all(ours.get(), settings_message(spec, audit_log))) throw_errno("cannot send the settings to the network host side");
  ::shutdown(ours.get(), SHUT_WR);
  auto line = read_line(ours.get(), Clock::now() + std::chrono::seconds(30), 1 << 20);
  json reply;
  try {
    if (line) reply = json::parse(*line);
  } catch (const json::exception&) {
  }
  if (!reply.is_object() || !reply.contains("ok")) {
    std::string why = reply.is_object() && reply.contains("error") && reply["error"].is_string()
                          ? reply["error"].get<std::string>()
                          : "it ended or did not answer within 30 seconds (" + log_tail(files) + ")";
    // A failed host side cleans up and ends on its own; wait (bounded) for that, so a failed
    // start leaves no process behind.
    if (reply.is_object() && reply.contains("pid") && reply["pid"].is_number_integer()) {
      wait_for_exit(reply["pid"].get<pid_t>(), std::chrono::seconds(10));
    }
    throw Error("cannot start the container's network host side: " + why + " See " + files.log().string() + ".");
  }

  HostNetwork result;
  result.pid = reply.value("pid", 0);
  result.socket_dir = files.sockets();
  const std::string inside = kContainerSocketDir;
  if (proxy) {
    result.proxy_socket = files.sockets() / kProxySocketName;
    result.shares.push_back({*result.proxy_socket, inside + "/" + kProxySocketName});
    result.env = net::proxy_environment(net::kProxyPort);
  }
  if (spec.gateway) {
    result.gateway_socket = files.sockets() / kGatewaySocketName;
    result.shares.push_back({*result.gateway_socket, inside + "/" + kGatewaySocketName});
    result.env["ANTHROPIC_BASE_URL"] = integrations::gateway_base_url();
  }
  return result;
}

void stop_host_network(const fs::path& state_dir) {
  HostNetworkFiles files(state_dir);
  if (!native::check_private_dir(files.dir)) return;
  if (host_alive(files)) {
    control(files, {{"op", "stop"}}, std::chrono::seconds(10));
    if (!wait_until_gone(files, std::chrono::seconds(15))) {
      // It does not answer: end it by identity, then its service.
      if (auto record = read_record(files)) kill_recorded(record->pid, record->start_time);
      wait_until_gone(files, std::chrono::seconds(5));
    }
  }
  clean_remains(files);
}

HostNetworkStatus host_network_status(const fs::path& state_dir) {
  HostNetworkStatus status;
  HostNetworkFiles files(state_dir);
  if (!native::check_private_dir(files.dir)) return status;
  auto record = read_record(files);
  if (host_alive(files)) {
    status.running = true;
    if (record) status.pid = record->pid;
    auto reply = control(files, {{"op", "status"}}, std::chrono::seconds(3));
    if (reply && reply->value("ok", false)) {
      net::NetworkServiceStats stats;
      stats.allowed = reply->value("allowed", std::uint64_t{0});
      stats.denied = reply->value("denied", std::uint64_t{0});
      stats.gateway_requests = reply->value("gateway_requests", std::uint64_t{0});
      status.stats = stats;
    } else {
      status.detail = "the network host side runs but does not answer on " + files.control().string() + ".";
    }
  } else if (record) {
    status.stale = true;
    status.pid = record->pid;
    // The log's last line says why, unless the process was killed (then it ends with "serving").
    std::string last = log_tail(files);
    const std::string prefix = "[claude-container network] ";
    if (last.rfind(prefix, 0) == 0) last.erase(0, prefix.size());
    if (last.empty() || last.rfind("serving", 0) == 0) last = "killed or crashed";
    status.detail = "the container's network host side (pid " + std::to_string(record->pid) + ") ended while the container ran (" +
                    last + "), so nothing inside reaches the network; restart the container.";
  }
  return status;
}

void reload_host_network(const fs::path& state_dir, const config::Network& network) {
  HostNetworkFiles files(state_dir);
  if (!native::check_private_dir(files.dir) || !host_alive(files)) {
    throw Error("the container's network host side is not running, so the new allow/deny lists apply at the next start.");
  }
  auto reply = control(files, {{"op", "reload"}, {"network", network_to_json(network)}}, std::chrono::seconds(10));
  if (!reply) throw Error("the container's network host side did not answer the reload; restart the container to apply the lists.");
  if (!reply->value("ok", false)) {
    throw Error("the container's network host side refused the reload: " + reply->value("error", std::string("no reason given")));
  }
}

}  // namespace cc::engine::image
