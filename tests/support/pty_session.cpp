#include "support/pty_session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>
#include <stdexcept>

extern char** environ;

namespace cc::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

}  // namespace

std::string strip_terminal_escapes(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') continue;
    if (c != '\x1b') {
      out += c;
      continue;
    }
    if (i + 1 >= text.size()) break;
    char kind = text[i + 1];
    if (kind == '[') {  // CSI: parameters then one final byte in 0x40..0x7e
      std::size_t j = i + 2;
      while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7e)) ++j;
      i = j;
    } else if (kind == ']') {  // OSC: up to BEL or ESC backslash
      std::size_t j = i + 2;
      while (j < text.size() && text[j] != '\x07' && !(text[j] == '\x1b' && j + 1 < text.size() && text[j + 1] == '\\')) ++j;
      i = (j < text.size() && text[j] == '\x1b') ? j + 1 : j;
    } else {
      i += 1;
    }
  }
  return out;
}

PtySession::PtySession(const std::vector<std::string>& argv, const PtyOptions& options) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [key, value] : options.env) env[key] = value;
  std::vector<std::string> env_strings;
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  std::vector<char*> args;
  for (auto& arg : argv_copy) args.push_back(arg.data());
  args.push_back(nullptr);

  winsize size{};
  size.ws_row = options.rows;
  size.ws_col = options.cols;
  pid_ = ::forkpty(&master_fd_, nullptr, nullptr, &size);
  if (pid_ < 0) throw std::runtime_error(std::string("forkpty failed: ") + std::strerror(errno));
  if (pid_ == 0) {
    if (options.cwd && ::chdir(options.cwd->c_str()) != 0) _exit(126);
    ::execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  ::fcntl(master_fd_, F_SETFD, FD_CLOEXEC);
}

PtySession::~PtySession() {
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (master_fd_ >= 0) ::close(master_fd_);
}

void PtySession::send(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(master_fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("writing to the pty failed: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

bool PtySession::read_some(int timeout_ms) {
  pollfd pfd{master_fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, timeout_ms);
  if (ready < 0 && errno == EINTR) return true;
  if (ready <= 0) return true;  // nothing yet
  char buffer[4096];
  ssize_t n = ::read(master_fd_, buffer, sizeof buffer);
  if (n > 0) {
    raw_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && errno == EINTR) return true;
  return false;  // EIO: the program closed its side
}

std::string PtySession::expect(const std::string& pattern, int timeout_seconds) {
  const std::regex re(pattern);
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    std::string cleaned = strip_terminal_escapes(raw_);
    std::string unread = consumed_ < cleaned.size() ? cleaned.substr(consumed_) : "";
    std::smatch match;
    if (std::regex_search(unread, match, re)) {
      std::size_t end = static_cast<std::size_t>(match.position(0) + match.length(0));
      consumed_ += end;
      return unread.substr(0, end);
    }
    int left = remaining_ms(deadline);
    if (left == 0) {
      throw std::runtime_error("timed out waiting for /" + pattern + "/; unread output:\n" + unread);
    }
    if (!read_some(left)) {
      throw std::runtime_error("the program ended before /" + pattern + "/ appeared; unread output:\n" + unread);
    }
  }
}

void PtySession::resize(unsigned short rows, unsigned short cols) {
  winsize size{};
  size.ws_row = rows;
  size.ws_col = cols;
  ::ioctl(master_fd_, TIOCSWINSZ, &size);  // the kernel sends SIGWINCH to the foreground group
}

void PtySession::signal(int signal_number) {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, signal_number);
}

int PtySession::wait_exit(int timeout_seconds) {
  if (exit_status_) return *exit_status_;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
  while (read_some(remaining_ms(deadline))) {
    if (remaining_ms(deadline) == 0) throw std::runtime_error("timed out waiting for the program to exit");
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return *exit_status_;
}

bool PtySession::in_cooked_mode() const {
  termios settings{};
  if (::tcgetattr(master_fd_, &settings) != 0) throw std::runtime_error("tcgetattr on the pty failed");
  return (settings.c_lflag & ICANON) && (settings.c_lflag & ECHO) && (settings.c_lflag & ISIG);
}

std::string PtySession::transcript() const { return strip_terminal_escapes(raw_); }

}  // namespace cc::test
