#include "engine/native/exec.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <cstdio>
#include <cstring>

#include "engine/native/child_report.hpp"
#include "engine/native/state_dir.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

extern char** environ;

namespace cc::engine::native {

namespace {

constexpr int kEnterFailed = 125;

int status_to_code(int status) noexcept {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

bool write_all(int fd, const char* data, size_t size) noexcept {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void write_text(int fd, const char* a, const char* b = "", const char* c = "") noexcept {
  write_all(fd, a, std::strlen(a));
  write_all(fd, b, std::strlen(b));
  write_all(fd, c, std::strlen(c));
}

struct ChildArgs {
  const ExecPlan* plan;
  char* const* argv;
  char* const* envp;
  const std::vector<std::string>* candidates;  // full paths to try, in order
  int error_fd;
  int stdio[3];  // what the command gets as fd 0, 1, 2 (-1: ours as they are)
};

// One copy direction between a caller's terminal and a pipe the command holds instead.
struct Relay {
  int from = -1;
  int to = -1;
};

// The process that becomes the command (inside the pid namespace).
[[noreturn]] void command_child(const ChildArgs& a, int slave, int master) noexcept {
  if (master >= 0) ::close(master);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGHUP, SIGWINCH, SIGCHLD}) ::signal(sig, SIG_DFL);
  // A session of its own, terminal or not: no controlling terminal of the caller's (so
  // /dev/tty and tcsetpgrp reach nothing), and `kill 0` reaches only this process group.
  if (::setsid() < 0) {
    send_report(a.error_fd, 'E', errno, "starting a new session (setsid)");
    ::_exit(kEnterFailed);
  }
  if (slave >= 0) {
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) {
      send_report(a.error_fd, 'E', errno, "making the pty the controlling terminal");
      ::_exit(kEnterFailed);
    }
    for (int fd = 0; fd < 3; ++fd) ::dup2(slave, fd);
    if (slave > 2) ::close(slave);
  } else {
    for (int fd = 0; fd < 3; ++fd) {
      if (a.stdio[fd] >= 0 && ::dup2(a.stdio[fd], fd) < 0) {
        send_report(a.error_fd, 'E', errno, "connecting the command's standard streams");
        ::_exit(kEnterFailed);
      }
    }
  }
  if (::chdir(a.plan->workdir.c_str()) != 0) {
    send_report(a.error_fd, 'E', errno, "entering the working directory", a.plan->workdir.c_str());
    ::_exit(kEnterFailed);
  }
  const char* what = "";
  if (int err = apply_hardening(a.plan->hardening, &what); err != 0) {
    send_report(a.error_fd, 'E', err, what);
    ::_exit(kEnterFailed);
  }
  ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  int last = ENOENT;
  for (const auto& path : *a.candidates) {
    ::execve(path.c_str(), a.argv, a.envp);
    if (errno != ENOENT && errno != ENOTDIR) last = errno;
  }
  if (last == ENOENT) {
    write_text(2, "claude-container: ", a.argv[0], ": command not found\n");
    ::_exit(127);
  }
  write_text(2, "claude-container: ", a.argv[0], ": ");
  write_text(2, std::strerror(last), "\n");
  ::_exit(126);
}

// Copies between the caller's terminal and the pty master until the command ends.
[[noreturn]] void relay_pty(int master, pid_t child) noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGWINCH, SIGCHLD, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
  bool stdin_open = true;
  bool master_open = true;
  int status = 0;
  bool exited = false;
  char buf[16384];
  while (master_open) {
    pollfd fds[3] = {{master, POLLIN, 0}, {sfd, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (::poll(fds, 3, exited ? 100 : -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::read(master, buf, sizeof(buf));
      if (n > 0) {
        write_all(1, buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        master_open = false;  // EIO: every slave end is closed
      }
    } else if (exited) {
      break;  // nothing more to read after the command ended
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        if (info.ssi_signo == SIGWINCH) {
          winsize ws;
          if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
        } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGHUP) {
          ::kill(child, static_cast<int>(info.ssi_signo));
        }
      }
      if (!exited && ::waitpid(child, &status, WNOHANG) == child) exited = true;
    }
    if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(0, buf, sizeof(buf));
      if (n > 0) {
        write_all(master, buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        stdin_open = false;
      }
    }
  }
  if (!exited) ::waitpid(child, &status, 0);
  ::_exit(status_to_code(status));
}

// The command is a session leader of its own, so the caller's terminal no longer delivers
// Ctrl-C or Ctrl-backslash to it: we receive them (we share the caller's process group) and pass them
// on to the command's group, as the terminal would have. SIGTERM/SIGHUP go to the command.
void forward_to_command(pid_t child, int sig) noexcept {
  if (sig == SIGINT || sig == SIGQUIT) ::kill(-child, sig);
  else if (sig == SIGTERM || sig == SIGHUP) ::kill(child, sig);
}

// Waits for the command, forwarding signals to it.
[[noreturn]] void wait_command(pid_t child) noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGHUP, SIGINT, SIGQUIT}) sigaddset(&set, sig);
  int status = 0;
  for (;;) {
    if (::waitpid(child, &status, WNOHANG) == child) ::_exit(status_to_code(status));
    siginfo_t info;
    int sig = ::sigwaitinfo(&set, &info);
    forward_to_command(child, sig);
  }
}

// Non-pty exec with a terminal among the caller's stdin/stdout/stderr: the command holds
// pipes, and we copy between them and the terminal until the command ends. Whatever the
// command leaves behind then holds only a pipe with no reader or writer, never the caller's
// terminal (which it could read keystrokes from long after `exec` returned).
[[noreturn]] void relay_stdio(pid_t child, Relay* relays, int count) noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGHUP, SIGINT, SIGQUIT}) sigaddset(&set, sig);
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  char buf[16384];
  int status = 0;
  bool exited = false;
  while (!exited) {
    pollfd fds[4];
    int n_fds = 0;
    fds[n_fds++] = {sfd, POLLIN, 0};
    for (int i = 0; i < count; ++i) fds[n_fds++] = {relays[i].from, POLLIN, 0};
    if (::poll(fds, static_cast<nfds_t>(n_fds), -1) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        forward_to_command(child, static_cast<int>(info.ssi_signo));
      }
    }
    for (int i = 0; i < count; ++i) {
      if (relays[i].from < 0 || !(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(relays[i].from, buf, sizeof(buf));
      if (n > 0 && write_all(relays[i].to, buf, static_cast<size_t>(n))) continue;
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      // End of input, or the other side is gone: the command sees EOF (or EPIPE) from here on.
      ::close(relays[i].from == 0 ? relays[i].to : relays[i].from);
      relays[i].from = -1;
    }
    if (::waitpid(child, &status, WNOHANG) == child) exited = true;
  }
  // Drain what the command wrote before it ended; what its leftovers write later is lost.
  for (int i = 0; i < count; ++i) {
    if (relays[i].from <= 0) continue;
    ::fcntl(relays[i].from, F_SETFL, ::fcntl(relays[i].from, F_GETFL) | O_NONBLOCK);
    ssize_t n;
    while ((n = ::read(relays[i].from, buf, sizeof(buf))) > 0) write_all(relays[i].to, buf, static_cast<size_t>(n));
  }
  if (!exited) ::waitpid(child, &status, 0);
  ::_exit(status_to_code(status));
}

// A pipe whose ends are both above the standard streams (one of which may be closed).
bool high_pipe(int fds[2]) noexcept {
  int raw[2];
  if (::pipe2(raw, O_CLOEXEC) != 0) return false;
  for (int i = 0; i < 2; ++i) {
    fds[i] = ::fcntl(raw[i], F_DUPFD_CLOEXEC, 3);
    ::close(raw[i]);
  }
  return fds[0] >= 0 && fds[1] >= 0;
}

// The helper that enters the namespaces (outside the pid namespace itself).
[[noreturn]] void enter_child(const ChildArgs& a, int pidfd) noexcept {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // We are a fork of the CLI, and the command's process (which shares our memory until it
  // execs) is visible inside from the moment it exists: wipe the caller's environment (the
  // host's ANTHROPIC_API_KEY, tokens) so /proc/<pid>/environ shows none of it meanwhile.
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) std::memset(*e, 0, std::strlen(*e));
  for (const auto& dir : a.plan->cgroup_dirs) {
    char path[512];
    int n = std::snprintf(path, sizeof(path), "%s/cgroup.procs", dir.c_str());
    if (n <= 0 || n >= static_cast<int>(sizeof(path))) continue;
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) {
      send_report(a.error_fd, 'E', errno, "joining the container's cgroup", path);
      ::_exit(kEnterFailed);
    }
    ::close(fd);
  }
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
  if (a.plan->own_netns) flags |= CLONE_NEWNET;
  if (::setns(pidfd, flags) != 0) {
    send_report(a.error_fd, 'E', errno, "joining the container's namespaces (setns)");
    ::_exit(kEnterFailed);
  }
  ::close(pidfd);
  // Our host ids came along through setns; become the container's root (as root on the host,
  // a subordinate id), or host root's files would be ours inside.
  if (::setresgid(0, 0, 0) != 0 || (::setgroups(0, nullptr) != 0 && errno != EPERM) || ::setresuid(0, 0, 0) != 0) {
    send_report(a.error_fd, 'E', errno, "switching to the container's root");
    ::_exit(kEnterFailed);
  }
  int master = -1, slave = -1;
  if (a.plan->tty) {
    master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0;
    if (master < 0 || ::ioctl(master, TIOCSPTLCK, &unlock) != 0) {
      send_report(a.error_fd, 'E', errno, "opening a pty inside the container", "/dev/ptmx");
      ::_exit(kEnterFailed);
    }
    slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) {
      send_report(a.error_fd, 'E', errno, "opening the pty's terminal end");
      ::_exit(kEnterFailed);
    }
    winsize ws;
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
  }
  // Without a pty, the caller's terminal must not be handed in (see relay_stdio).
  ChildArgs args = a;
  Relay relays[3];
  int relay_count = 0;
  for (int fd = 0; fd < 3 && !a.plan->tty; ++fd) {
    args.stdio[fd] = -1;
    if (::isatty(fd) != 1) continue;
    int p[2];
    if (!high_pipe(p)) {
      send_report(a.error_fd, 'E', errno, "creating a pipe for the command's standard streams");
      ::_exit(kEnterFailed);
    }
    // stdin: we read the terminal and write the pipe; stdout/stderr: the other way round.
    args.stdio[fd] = fd == 0 ? p[0] : p[1];
    relays[relay_count++] = fd == 0 ? Relay{0, p[1]} : Relay{p[0], fd};
  }
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGHUP, SIGWINCH, SIGINT, SIGQUIT}) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a command that closed its stdin is EPIPE for the relay, not death
  // vfork: the command child only sets itself up and execs, so copying this process's
  // page tables (a second full fork) would be wasted work on every exec.
  pid_t child = ::vfork();
  if (child < 0) {
    send_report(a.error_fd, 'E', errno, "fork inside the container");
    ::_exit(kEnterFailed);
  }
  if (child == 0) command_child(args, slave, master);
  if (slave >= 0) ::close(slave);
  ::close(a.error_fd);
  for (int fd = 0; fd < 3; ++fd) {
    if (args.stdio[fd] >= 0) ::close(args.stdio[fd]);
  }
  if (master >= 0) relay_pty(master, child);
  if (relay_count > 0) relay_stdio(child, relays, relay_count);
  wait_command(child);
}

volatile pid_t g_forward_to = -1;
void forward_signal(int sig) {
  if (g_forward_to > 0) ::kill(g_forward_to, sig);
}

// Raw mode on the caller's terminal for the duration of a pty session.
class RawTerminal {
 public:
  explicit RawTerminal(bool enable) {
    if (!enable || ::tcgetattr(0, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(0, TCSADRAIN, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSADRAIN, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

int run_exec(const ExecPlan& plan) {
  if (plan.argv.empty()) throw Error("no command to run inside the container.", ExitCode::usage);
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, plan.init_pid, 0)));
  if (!pidfd || process_start_time(plan.init_pid) != plan.init_start_time) {
    throw Error("the container's pid 1 (" + std::to_string(plan.init_pid) +
                ") is gone; run `claude-container status` to clean up, then `claude-container start`.");
  }
  std::vector<char*> argv, envp;
  for (const auto& s : plan.argv) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  for (const auto& s : plan.env) envp.push_back(const_cast<char*>(s.c_str()));
  envp.push_back(nullptr);
  std::vector<std::string> candidates;
  if (plan.argv[0].find('/') != std::string::npos) {
    candidates.push_back(plan.argv[0]);
  } else {
    for (const auto& dir : plan.path_dirs) candidates.push_back(dir + "/" + plan.argv[0]);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd error_read(pipe_fds[0]), error_write(pipe_fds[1]);
  ChildArgs args{&plan, argv.data(), envp.data(), &candidates, error_write.get(), {-1, -1, -1}};

  bool tty = plan.tty && ::isatty(0);
  RawTerminal raw(tty);
  struct sigaction ignore {}, forward {}, old_int {}, old_quit {}, old_term {}, old_hup {};
  ignore.sa_handler = SIG_IGN;
  forward.sa_handler = forward_signal;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  ::sigaction(SIGTERM, &forward, &old_term);
  ::sigaction(SIGHUP, &forward, &old_hup);

  pid_t helper = ::fork();
  if (helper == 0) enter_child(args, pidfd.get());
  int fork_errno = errno;
  g_forward_to = helper;
  error_write.reset();
  int status = 0;
  if (helper > 0) {
    while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {
    }
  }
  g_forward_to = -1;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  if (helper < 0) throw Error(errno_message("cannot fork", fork_errno));

  ChildReport report;
  if (::read(error_read.get(), &report, sizeof(report)) == static_cast<ssize_t>(sizeof(report)) && report.tag == 'E') {
    std::string message = "cannot run the command in the container: " + std::string(report.what);
    if (report.detail[0] != '\0') message += " (" + std::string(report.detail) + ")";
    throw Error(message + ": " + std::strerror(report.err) + ".");
  }
  return status_to_code(status);
}

}  // namespace cc::engine::native
