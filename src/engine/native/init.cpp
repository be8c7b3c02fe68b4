#include "engine/native/init.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace cc::engine::native {

namespace {

void log_line(const char* text) noexcept {
  // Same stamp as the supervisor's lines; pid 1 is single-threaded, so gmtime_r is safe here.
  char stamp[32] = "?";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (::gmtime_r(&now, &tm) != nullptr) std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  char buf[256];
  int n = std::snprintf(buf, sizeof(buf), "[init %s] %s\n", stamp, text);
  if (n > 0) {
    ssize_t ignored = ::write(STDOUT_FILENO, buf, static_cast<size_t>(n < 256 ? n : 255));
    (void)ignored;
  }
}

// True when a process other than us exists in our pid namespace (our /proc is its procfs).
bool others_alive() noexcept {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return false;
  bool found = false;
  while (dirent* entry = ::readdir(dir)) {
    const char* name = entry->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    if (std::strcmp(name, "1") == 0) continue;
    found = true;
    break;
  }
  ::closedir(dir);
  return found;
}

void reap_all() noexcept {
  int status;
  while (::waitpid(-1, &status, WNOHANG) > 0) {
  }
}

void ignore_handler(int) {}

}  // namespace

void run_init(int supervisor_sock) noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  // A handler that is not SIG_DFL makes the kernel deliver these to a namespace's init at all.
  struct sigaction sa {};
  sa.sa_handler = ignore_handler;
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) {
    log_line("cannot create a signalfd; exiting");
    ::_exit(1);
  }
  log_line("running as pid 1");
  bool terminating = false;
  for (;;) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {supervisor_sock, POLLIN, 0}};
    int rc = ::poll(fds, 2, terminating ? 10 : -1);
    if (rc < 0 && errno != EINTR) ::_exit(1);
    if (rc > 0 && (fds[1].revents & (POLLHUP | POLLERR | POLLIN))) {
      char byte;
      if (::read(supervisor_sock, &byte, 1) <= 0) {
        log_line("the supervisor is gone; ending the container");
        ::kill(-1, SIGKILL);
        ::_exit(1);
      }
    }
    if (rc > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
          reap_all();
          break;
        }
        char text[96];
        std::snprintf(text, sizeof(text), "received %s; forwarding it to every process", ::strsignal(sig));
        log_line(text);
        ::kill(-1, sig);
        terminating = true;
        break;
      }
    }
    reap_all();
    if (terminating && !others_alive()) {
      log_line("all processes ended; exiting");
      ::_exit(0);
    }
  }
}

}  // namespace cc::engine::native
