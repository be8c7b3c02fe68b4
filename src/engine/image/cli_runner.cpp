#include "engine/image/cli_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

extern char** environ;

namespace cc::engine::image {

namespace fs = std::filesystem;

namespace {

// argv and envp built before fork: the child only makes system calls.
struct ExecImage {
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecImage make_exec_image(const fs::path& program, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env) {
  ExecImage img;
  std::vector<std::string> argv_s{program.string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : env) {
    if (!read_by_the_cli(k)) merged[k] = v;
  }
  // The CLIs run system tools themselves (podman: mount, the runtime's helpers) and find them
  // on PATH: the system directories are always on it, after the caller's own.
  std::string& path = merged["PATH"];
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if ((":" + path + ":").find(std::string(":") + dir + ":") == std::string::npos) path += (path.empty() ? "" : ":") + std::string(dir);
  }
  img.strings.reserve(argv_s.size() + merged.size());
  for (auto& a : argv_s) img.strings.push_back(std::move(a));
  const std::size_t argc = img.strings.size();
  for (const auto& [k, v] : merged) img.strings.push_back(k + "=" + v);
  for (std::size_t i = 0; i < img.strings.size(); ++i) {
    (i < argc ? img.argv : img.envp).push_back(img.strings[i].data());
  }
  img.argv.push_back(nullptr);
  img.envp.push_back(nullptr);
  return img;
}

// What the child could not do before exec: stage and errno, over a close-on-exec pipe.
struct ChildFailure {
  int stage;
  int err;
};
constexpr const char* kStages[] = {"set up its standard streams", "enter the cgroup2 mount namespace", "", "", "run"};

[[noreturn]] void child_fail(int report_fd, int stage) {
  ChildFailure f{stage, errno};
  ssize_t ignored = ::write(report_fd, &f, sizeof(f));
  (void)ignored;
  ::_exit(127);
}

// In the child: streams, then the mount namespace, then exec. Never returns.
[[noreturn]] void child_exec(const ExecImage& img, int mntns_fd, int stdin_fd, int stdout_fd, int stderr_fd,
                             int report_fd) {
  ::signal(SIGPIPE, SIG_DFL);
  if ((stdin_fd >= 0 && ::dup2(stdin_fd, 0) < 0) || (stdout_fd >= 0 && ::dup2(stdout_fd, 1) < 0) ||
      (stderr_fd >= 0 && ::dup2(stderr_fd, 2) < 0)) {
    child_fail(report_fd, 0);
  }
  if (mntns_fd >= 0 && ::setns(mntns_fd, CLONE_NEWNS) != 0) child_fail(report_fd, 1);
  ::execve(img.argv[0], img.argv.data(), img.envp.data());
  child_fail(report_fd, 4);
}

constexpr unsigned long kNsfsMagic = 0x6e736673;

bool is_pinned_namespace(int fd) {
  struct statfs st {};
  return ::fstatfs(fd, &st) == 0 && static_cast<unsigned long>(st.f_type) == kNsfsMagic;
}

// Makes the namespace: a child unshares it (host mounts propagate in, nothing out), mounts
// cgroup2 over /sys/fs/cgroup there and waits until the parent has pinned it on `file`.
void create_cgroup2_namespace(const fs::path& file) {
  int ready[2], done[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw_errno("cannot create a pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(done, O_CLOEXEC) != 0) throw_errno("cannot create a pipe");
  UniqueFd done_r(done[0]), done_w(done[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("cannot fork");
  if (pid == 0) {
    ready_r.reset();
    done_w.reset();  // else the read below never sees the parent's end close
    int err = 0;
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
        ::mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
      err = errno;
    }
    ssize_t ignored = ::write(ready_w.get(), &err, sizeof(err));
    (void)ignored;
    char c;
    ignored = ::read(done_r.get(), &c, 1);
    ::_exit(0);
  }
  ready_w.reset();
  done_r.reset();
  int err = 0;
  ssize_t n = ::read(ready_r.get(), &err, sizeof(err));
  int mount_err = 0;
  if (n == static_cast<ssize_t>(sizeof(err)) && err == 0) {
    const std::string ns = "/proc/" + std::to_string(pid) + "/ns/mnt";
    if (::mount(ns.c_str(), file.c_str(), nullptr, MS_BIND, nullptr) != 0) mount_err = errno;
  } else if (n != static_cast<ssize_t>(sizeof(err))) {
    err = EIO;
  }
  done_w.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (err != 0 || mount_err != 0) {
    throw Error("cannot make the mount namespace podman needs on this host (cgroup2 at /sys/fs/cgroup): " +
                std::string(std::strerror(err != 0 ? err : mount_err)) +
                "; this needs root, or a host with a unified cgroup hierarchy.");
  }
}

struct Pipe {
  UniqueFd read, write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("cannot create a pipe");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// After the child exited or exec'd: a failure report means it never ran.
void check_report(UniqueFd& report, const fs::path& program) {
  ChildFailure f{};
  ssize_t n;
  do {
    n = ::read(report.get(), &f, sizeof(f));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(f))) {
    const int stage = (f.stage >= 0 && f.stage < 5) ? f.stage : 4;
    throw Error("cannot " + std::string(kStages[stage]) + " for " + program.string() + ": " + std::strerror(f.err) +
                (stage == 1 ? "; this needs root (CAP_SYS_ADMIN), as podman on this host does" : "") + ".");
  }
}

struct Spawned {
  pid_t pid;
  UniqueFd report;
};

Spawned spawn(const ExecImage& img, const fs::path& program, int mntns_fd, int in, int out, int err) {
  Pipe report = make_pipe();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("cannot start " + program.string());
  if (pid == 0) child_exec(img, mntns_fd, in, out, err, report.write.get());
  report.write.reset();
  return {pid, std::move(report.read)};
}

}  // namespace

bool read_by_the_cli(const std::string& key) {
  static const char* const exact[] = {"PATH", "HOME", "TMPDIR", "SHELL", "USER", "LOGNAME", "HTTP_PROXY", "HTTPS_PROXY",
                                      "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy",
                                      "REGISTRY_AUTH_FILE", "STORAGE_DRIVER", "STORAGE_OPTS", "SSL_CERT_FILE",
                                      "SSL_CERT_DIR", "GODEBUG", "GOMAXPROCS", "DBUS_SESSION_BUS_ADDRESS"};
  static const char* const prefixes[] = {"DOCKER_", "CONTAINER_", "CONTAINERS_", "BUILDAH_", "PODMAN_",
                                         "XDG_", "LD_", "GOTRACE", "_CONTAINERS_"};
  for (const char* e : exact) {
    if (key == e) return true;
  }
  for (const char* p : prefixes) {
    if (key.rfind(p, 0) == 0) return true;
  }
  return false;
}

std::optional<fs::path> find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    std::size_t start = 0;
    for (;;) {
      std::size_t colon = p.find(':', start);
      dirs.push_back(p.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  for (const char* d : {"/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"}) dirs.emplace_back(d);
  for (const auto& dir : dirs) {
    if (dir.empty() || dir[0] != '/') continue;  // never relative to the current directory
    fs::path candidate = fs::path(dir) / name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

std::string describe_command(const fs::path& program, const std::vector<std::string>& args) {
  std::string out = program.filename().string();
  for (const auto& a : args) out += " " + a;
  return out;
}

UniqueFd cgroup2_namespace(const fs::path& file) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) throw Error("cannot create " + file.parent_path().string() + ": " + ec.message());
  // One creator at a time; the others then find it pinned.
  const fs::path lock_path = file.string() + ".lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!lock) throw_errno("cannot open " + lock_path.string());
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw_errno("cannot lock " + lock_path.string());
  }
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd && is_pinned_namespace(fd.get())) return fd;
  fd.reset();
  UniqueFd mountpoint(::open(file.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!mountpoint) throw_errno("cannot create " + file.string());
  mountpoint.reset();
  create_cgroup2_namespace(file);
  fd.reset(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd || !is_pinned_namespace(fd.get())) {
    throw Error("the mount namespace pinned at " + file.string() + " is not one; remove the file and try again.");
  }
  return fd;
}

CliRunner::CliRunner(fs::path program, std::optional<fs::path> cgroup2_namespace)
    : program_(std::move(program)), namespace_file_(std::move(cgroup2_namespace)) {}

UniqueFd CliRunner::namespace_fd() const {
  if (!namespace_file_) return {};
  return cgroup2_namespace(*namespace_file_);
}

CliResult CliRunner::capture(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                             std::size_t max_bytes) const {
  ExecImage img = make_exec_image(program_, args, env);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) throw_errno("cannot open /dev/null");
  Pipe out = make_pipe(), err = make_pipe();
  UniqueFd ns = namespace_fd();
  Spawned child = spawn(img, program_, ns.get(), devnull.get(), out.write.get(), err.write.get());
  out.write.reset();
  err.write.reset();
  CliResult result;
  std::string* sinks[2] = {&result.out, &result.err};
  UniqueFd* fds[2] = {&out.read, &err.read};
  char buf[65536];
  for (;;) {
    pollfd pfd[2];
    int n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i) {
      if (fds[i]->valid()) {
        pfd[n] = {fds[i]->get(), POLLIN, 0};
        which[n++] = i;
      }
    }
    if (n == 0) break;
    if (::poll(pfd, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < n; ++k) {
      if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t got = ::read(pfd[k].fd, buf, sizeof(buf));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fds[which[k]]->reset();
        continue;
      }
      std::string& sink = *sinks[which[k]];
      if (sink.size() < max_bytes) sink.append(buf, std::min<std::size_t>(static_cast<std::size_t>(got), max_bytes - sink.size()));
    }
  }
  result.status = wait_status(child.pid);
  check_report(child.report, program_);
  return result;
}

int CliRunner::pass_through(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) const {
  ExecImage img = make_exec_image(program_, args, env);
  // The terminal's ^C and ^\ belong to the command inside (podman forwards them); this
  // process only waits for it.
  struct sigaction ignore {}, old_int {}, old_quit {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  int status = 1;
  try {
    UniqueFd ns = namespace_fd();
    Spawned child = spawn(img, program_, ns.get(), -1, -1, -1);
    status = wait_status(child.pid);
    check_report(child.report, program_);
  } catch (...) {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGQUIT, &old_quit, nullptr);
    throw;
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  return status;
}

int CliRunner::logged(const std::vector<std::string>& args, const fs::path& log, int echo_fd, std::string* tail,
                      const std::map<std::string, std::string>& env) const {
  ExecImage img = make_exec_image(program_, args, env);
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!log_fd) throw_errno("cannot open the build log " + log.string());
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) throw_errno("cannot open /dev/null");
  Pipe out = make_pipe();
  UniqueFd ns = namespace_fd();
  Spawned child = spawn(img, program_, ns.get(), devnull.get(), out.write.get(), out.write.get());
  out.write.reset();
  constexpr std::size_t kTail = 4096;
  char buf[65536];
  for (;;) {
    ssize_t got = ::read(out.read.get(), buf, sizeof(buf));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    const auto size = static_cast<std::size_t>(got);
    ssize_t ignored = ::write(log_fd.get(), buf, size);
    if (echo_fd >= 0) ignored = ::write(echo_fd, buf, size);
    (void)ignored;
    if (tail != nullptr) {
      tail->append(buf, size);
      if (tail->size() > kTail) tail->erase(0, tail->size() - kTail);
    }
  }
  int status = wait_status(child.pid);
  check_report(child.report, program_);
  return status;
}

}  // namespace cc::engine::image
