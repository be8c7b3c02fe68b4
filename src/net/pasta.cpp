// `full` policy: pasta gives the sandbox's network namespace user-mode NAT to the outside, with
// every path back to the host's loopback closed: no port forwarding in either direction
// (-t/-u/-T/-U none) and the gateway address not mapped to the host (--no-map-gw).
//
// pasta attached to a namespace by PID stays up after that namespace's last process exits
// (it holds the namespace open itself), so a small keeper process watches the sandbox's pid
// through a pidfd and stops pasta when the sandbox is gone.
#include "net/pasta.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {
namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// Reads pasta's "PID\n" from fd; async-signal-safe (runs in the forked keeper). Stops at the
// newline: the daemon keeps the pipe's write end open, so EOF would never come.
pid_t read_pid(int fd) {
  char buf[32];
  size_t len = 0;
  pollfd p{fd, POLLIN, 0};
  while (len < sizeof buf && (len == 0 || buf[len - 1] != '\n')) {
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  pid_t pid = 0;
  for (size_t i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; ++i) pid = pid * 10 + (buf[i] - '0');
  return pid;
}

// Closes every descriptor but the given ones (sorted ascending), so the keeper does not hold
// the supervisor's sockets and pipes open for the sandbox's lifetime.
void close_other_fds(const int* keep, int count) {
  unsigned from = 3;
  for (int i = 0; i < count; ++i) {
    if (keep[i] < 0) continue;
    unsigned fd = static_cast<unsigned>(keep[i]);
    if (fd > from) ::syscall(SYS_close_range, from, fd - 1, 0);
    if (fd + 1 > from) from = fd + 1;
  }
  ::syscall(SYS_close_range, from, ~0u, 0);
}

// The keeper: starts pasta, reports its pid (or 0) on `status_fd`, then stops pasta when the
// sandbox exits. Only async-signal-safe calls: the supervisor that forked us has threads.
[[noreturn]] void keeper(char* const* argv, pid_t sandbox_pid, int status_fd, int error_fd, int pid_read_fd,
                         int pid_write_fd, int netns_fd, int userns_fd) {
  int keep[6] = {status_fd, error_fd, pid_read_fd, pid_write_fd, netns_fd, userns_fd};
  const int kept = userns_fd >= 0 ? 6 : netns_fd >= 0 ? 5 : 4;
  for (int i = 0; i < kept; ++i)  // tiny sort: at most six elements
    for (int j = i + 1; j < kept; ++j)
      if (keep[j] < keep[i]) { int t = keep[i]; keep[i] = keep[j]; keep[j] = t; }
  close_other_fds(keep, kept);
  // Not the supervisor's (or a test's) stdout/stderr: whoever reads them must see EOF.
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup3(null, 0, 0);
    ::dup3(null, 1, 0);
    ::dup3(null, 2, 0);
    ::close(null);
  }
  pid_t failed = 0;
  int sandbox = pidfd_open(sandbox_pid);
  if (sandbox < 0) {
    write_all(error_fd, "the sandbox process is gone", 27);
    write_all(status_fd, &failed, sizeof failed);
    _exit(1);
  }
  pid_t launcher = ::fork();
  if (launcher == 0) {
    // pasta inherits ignored signals and the mask across exec; the supervisor ignores SIGPIPE,
    // and pasta refuses to start when it finds SIGPIPE already ignored.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(error_fd, 2);
    if (userns_fd >= 0) {
      // As root: become the sandbox's root, i.e. the container root's host ids, with
      // capabilities only in the sandbox's user namespace (which owns its network namespace).
      // pasta's `--runas 0:0` then means that same user, never the host's root.
      if (::setns(userns_fd, CLONE_NEWUSER) != 0) {
        write_all(2, "cannot enter the sandbox's user namespace", 41);
        _exit(126);
      }
      ::setgroups(0, nullptr);  // refused when the namespace denies setgroups: root's groups then stay unmapped
      if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
        write_all(2, "cannot become the sandbox's root", 32);
        _exit(126);
      }
    }
    ::execv(argv[0], argv);
    write_all(2, "cannot run pasta", 16);
    _exit(127);
  }
  ::close(pid_write_fd);
  int status = 0;
  while (launcher > 0 && ::waitpid(launcher, &status, 0) < 0 && errno == EINTR) {
  }
  // pasta's first process exits once the namespace is configured and the daemon has started.
  pid_t pasta = (launcher > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? read_pid(pid_read_fd) : 0;
  write_all(status_fd, &pasta, sizeof pasta);
  ::close(status_fd);
  ::close(error_fd);
  if (pasta <= 0) _exit(1);
  int pasta_fd = pidfd_open(pasta);
  if (pasta_fd < 0) _exit(0);
  pollfd fds[2] = {{sandbox, POLLIN, 0}, {pasta_fd, POLLIN, 0}};
  while (true) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents) _exit(0);  // pasta ended on its own
    if (fds[0].revents) {
      ::syscall(SYS_pidfd_send_signal, pasta_fd, SIGTERM, nullptr, 0);
      _exit(0);
    }
  }
}

// The host id that is 0 inside the sandbox's user namespace (the first line of its map); 0
// when root is root's own or the map cannot be read.
unsigned host_id_of_root(pid_t pid, const char* map) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + map;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256] = {};
  ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
  unsigned inside = 1, outside = 0, count = 0;
  if (n <= 0 || std::sscanf(buf, "%u %u %u", &inside, &outside, &count) != 3 || inside != 0 || count == 0) return 0;
  return outside;
}

}  // namespace

bool tun_open_to_everyone() {
  struct stat st {};
  return ::stat("/dev/net/tun", &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 0006) == 0006;
}

std::optional<std::string> find_pasta() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t colon = p.find(':', start);
      dirs.push_back(p.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  for (const char* d : {"/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin"}) dirs.emplace_back(d);
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/pasta";
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

pid_t attach_pasta(const std::string& pasta_path, pid_t sandbox_pid) {
  int status_pipe[2], error_pipe[2], pid_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw_errno("cannot create a pipe for pasta");
  UniqueFd status_read(status_pipe[0]), status_write(status_pipe[1]);
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw_errno("cannot create a pipe for pasta");
  UniqueFd error_read(error_pipe[0]), error_write(error_pipe[1]);
  if (::pipe2(pid_pipe, O_CLOEXEC) != 0) throw_errno("cannot create a pipe for pasta");
  UniqueFd pid_read(pid_pipe[0]), pid_write(pid_pipe[1]);

  // pasta writes its daemon's pid to the "pid file", here the write end of a pipe. The fd is
  // handed over without CLOEXEC under a fixed number.
  std::vector<std::string> args = {pasta_path, "--config-net", "--quiet", "--no-map-gw",
                                   "-t", "none", "-u", "none", "-T", "none", "-U", "none",
                                   "-P", "/proc/self/fd/" + std::to_string(pid_write.get())};
  // As root pasta would switch to "nobody", which may not enter the sandbox's namespaces. Where
  // it can open /dev/net/tun as anybody (the usual 0666), it is started inside the sandbox's
  // user namespace as its root instead: the container root's host ids, with capabilities in
  // that namespace only, and `--runas 0:0` keeps it there. Where the device is root's alone,
  // it stays the host's root (without capabilities: pasta drops them). Either way it gets the
  // network namespace as a descriptor we opened (--netns-only implied).
  UniqueFd netns, userns;
  if (::geteuid() == 0) {
    const std::string proc = "/proc/" + std::to_string(sandbox_pid) + "/ns/";
    netns.reset(::open((proc + "net").c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) throw_errno("cannot open the sandbox's network namespace for pasta");
    const unsigned uid = host_id_of_root(sandbox_pid, "uid_map"), gid = host_id_of_root(sandbox_pid, "gid_map");
    if (tun_open_to_everyone() && uid != 0 && gid != 0) {
      userns.reset(::open((proc + "user").c_str(), O_RDONLY | O_CLOEXEC));
      if (!userns) throw_errno("cannot open the sandbox's user namespace for pasta");
      // pasta reopens the pid pipe through /proc/self/fd as the sandbox's root: make it theirs.
      if (::fchown(pid_write.get(), uid, gid) != 0) throw_errno("cannot hand pasta its pid pipe");
    }
    args.insert(args.end(), {"--runas", "0:0", "--netns", "/proc/self/fd/" + std::to_string(netns.get())});
  } else {
    args.push_back(std::to_string(sandbox_pid));  // joins the pid's user and network namespaces
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t middle = ::fork();
  if (middle < 0) throw_errno("cannot fork to start pasta");
  if (middle == 0) {
    // Double fork: the keeper is re-parented away from the supervisor, which never reaps it.
    ::fcntl(pid_write.get(), F_SETFD, 0);
    if (netns) ::fcntl(netns.get(), F_SETFD, 0);
    if (userns) ::fcntl(userns.get(), F_SETFD, 0);
    pid_t k = ::fork();
    if (k == 0) {
      ::setsid();
      keeper(argv.data(), sandbox_pid, status_write.get(), error_write.get(), pid_read.get(), pid_write.get(),
             netns ? netns.get() : -1, userns ? userns.get() : -1);
    }
    _exit(k < 0 ? 1 : 0);
  }
  int st = 0;
  while (::waitpid(middle, &st, 0) < 0 && errno == EINTR) {
  }
  status_write.reset();
  error_write.reset();
  pid_write.reset();
  pid_read.reset();

  pid_t pasta = 0;
  pollfd pfd{status_read.get(), POLLIN, 0};
  if (::poll(&pfd, 1, 20000) > 0) {
    ssize_t n = ::read(status_read.get(), &pasta, sizeof pasta);
    if (n != sizeof pasta) pasta = 0;
  }
  if (pasta > 0) return pasta;

  std::string message;
  char buf[512];
  ::fcntl(error_read.get(), F_SETFL, O_NONBLOCK);
  ssize_t n;
  while (message.size() < 4096 && (n = ::read(error_read.get(), buf, sizeof buf)) > 0) message.append(buf, static_cast<size_t>(n));
  // pasta also complains about a missing syslog; keep only its own messages.
  std::string cleaned;
  size_t start = 0;
  while (start < message.size()) {
    size_t nl = message.find('\n', start);
    std::string line = message.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    auto syslog = line.find("Failed to send");
    if (syslog != std::string::npos) line.erase(syslog);
    if (!line.empty() && line.find("Changing to nobody") == std::string::npos)
      cleaned += (cleaned.empty() ? "" : "; ") + line;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  if (cleaned.find("tun") != std::string::npos && ::geteuid() != 0)
    cleaned += "; /dev/net/tun must be readable and writable by you for rootless pasta";
  throw Error("pasta could not give the sandbox a network (" + (cleaned.empty() ? std::string("no message") : cleaned) +
              "); install a working passt package or choose a network policy other than `full`");
}

}  // namespace cc::net
