#include "cli/hidden_input.hpp"

#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <iterator>

#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::cli {

namespace {

// What a signal handler needs to give echo back before the signal takes its course.
struct EchoState {
  std::atomic<bool> off{false};
  int fd = -1;
  termios saved{};
  termios quiet{};
};
EchoState g_echo;

const int kFatalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
struct sigaction g_previous[std::size(kFatalSignals)];

void restore_echo_and_reraise(int sig);

// Ctrl-Z: echo back on for the shell the user returns to, stop here, and once continued
// (`fg`) echo off again before another key is read: what is typed after resuming is the
// secret, and would otherwise be shown on the screen.
void suspend_with_echo(int sig) {
  if (g_previous[std::size(kFatalSignals) - 1].sa_handler == SIG_IGN) return;  // we were not to stop
  const bool was_off = g_echo.off.exchange(false);
  if (was_off) ::tcsetattr(g_echo.fd, TCSANOW, &g_echo.saved);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  ::sigprocmask(SIG_UNBLOCK, &only, nullptr);
  ::raise(sig);  // stops until SIGCONT
  ::sigprocmask(SIG_BLOCK, &only, nullptr);  // as it was in this handler
  struct sigaction again {};
  again.sa_handler = restore_echo_and_reraise;
  sigemptyset(&again.sa_mask);
  ::sigaction(sig, &again, nullptr);
  if (was_off) {
    g_echo.off = true;
    ::tcsetattr(g_echo.fd, TCSAFLUSH, &g_echo.quiet);
  }
}

void restore_echo_and_reraise(int sig) {
  if (sig == SIGTSTP) {
    suspend_with_echo(sig);
    return;
  }
  if (g_echo.off.exchange(false)) {
    ::tcsetattr(g_echo.fd, TCSANOW, &g_echo.saved);
    [[maybe_unused]] auto ignored = ::write(g_echo.fd, "\n", 1);
  }
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], &g_previous[i], nullptr);
  ::raise(sig);
}

class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) throw_errno("reading the terminal settings");
    g_echo.fd = fd_;
    g_echo.saved = saved_;
    struct sigaction action {};
    action.sa_handler = restore_echo_and_reraise;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], &action, &g_previous[i]);
    termios quiet = saved_;
    // Line editing and Ctrl-C stay as the user knows them; only the echo goes.
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
    g_echo.quiet = quiet;
    g_echo.off = true;
    if (::tcsetattr(fd_, TCSAFLUSH, &quiet) != 0) {
      int err = errno;
      restore();
      throw Error(errno_message("switching the terminal's echo off", err));
    }
  }
  ~EchoOff() { restore(); }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  void restore() {
    if (g_echo.off.exchange(false)) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], &g_previous[i], nullptr);
  }
  int fd_;
  termios saved_{};
};

}  // namespace

std::optional<std::string> read_hidden_line(int fd, const std::string& prompt, std::size_t max_bytes) {
  if (::isatty(fd) == 0) throw usage_error("hidden input needs a terminal.");
  // The prompt goes to stderr when that is the terminal too, so stdout keeps only results.
  const int out = ::isatty(STDERR_FILENO) != 0 ? STDERR_FILENO : fd;
  std::string line;
  line.reserve(max_bytes + 1);  // grows in place: no copy of the secret is left behind
  bool ended = false;
  {
    // Echo goes off before the prompt shows, so nothing typed after seeing it is echoed.
    EchoOff echo_off(fd);
    if (!write_all(out, prompt)) throw_errno("writing to the terminal");
    char c = 0;
    for (;;) {
      ssize_t n = ::read(fd, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("reading from the terminal");
      if (n == 0) {
        ended = line.empty();
        break;
      }
      if (c == '\n' || c == '\r') break;
      if (line.size() < max_bytes) line.push_back(c);
    }
  }
  [[maybe_unused]] bool ignored = write_all(out, "\n");  // the user's Enter was not echoed
  if (ended) return std::nullopt;
  return line;
}

}  // namespace cc::cli
