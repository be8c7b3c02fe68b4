// `claude-container login`'s hidden input on a real pty: suspended with Ctrl-Z and resumed with
// `fg`, the key the user types next must not be echoed to the screen.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "cli/hidden_input.hpp"

namespace {

// Reads what the pty shows until `want` appears or `ms` pass.
std::string read_until(int master, const std::string& want, int ms) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (out.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buffer[256];
    ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
}

bool echo_on(int master) {
  termios t{};
  return ::tcgetattr(master, &t) == 0 && (t.c_lflag & ECHO) != 0;
}

template <typename Pred>
bool wait_for(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pred();
}

}  // namespace

TEST(HiddenInputRedTeam, EchoIsOffAgainAfterSuspendAndResume) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string slave_name = ::ptsname(master);
  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);

  // A session with the pty as its terminal, and the reader in a foreground job of its own (a
  // job control shell's layout: a session leader's own group is orphaned, where Ctrl-Z does
  // nothing).
  pid_t leader = ::fork();
  ASSERT_GE(leader, 0);
  if (leader == 0) {
    ::setsid();
    int slave = ::open(slave_name.c_str(), O_RDWR);
    if (slave < 0 || ::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(90);
    pid_t reader = ::fork();
    if (reader == 0) {
      ::setpgid(0, 0);
      sigset_t ttou;
      sigemptyset(&ttou);
      sigaddset(&ttou, SIGTTOU);
      ::sigprocmask(SIG_BLOCK, &ttou, nullptr);
      ::tcsetpgrp(slave, ::getpgrp());
      ::sigprocmask(SIG_UNBLOCK, &ttou, nullptr);
      ::dup2(slave, 0);
      ::dup2(slave, 1);
      ::dup2(slave, 2);
      pid_t self = ::getpid();
      [[maybe_unused]] auto w = ::write(report[1], &self, sizeof self);
      try {
        auto line = cc::cli::read_hidden_line(0, "key: ", 256);
        ::_exit(line && *line == "sk-ant-secret" ? 0 : 91);
      } catch (...) {
        ::_exit(92);
      }
    }
    int status = 0;
    while (::waitpid(reader, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 93);
  }
  ::close(report[1]);
  pid_t reader = 0;
  ASSERT_EQ(::read(report[0], &reader, sizeof reader), static_cast<ssize_t>(sizeof reader));
  ::close(report[0]);

  EXPECT_NE(read_until(master, "key: ", 5000).find("key: "), std::string::npos);
  EXPECT_FALSE(echo_on(master));
  ASSERT_EQ(::kill(reader, SIGTSTP), 0);
  EXPECT_TRUE(wait_for([&] { return process_state(reader) == 'T'; })) << "Ctrl-Z did not stop the reader";
  EXPECT_TRUE(echo_on(master)) << "stopped with echo off, the user's shell would be blind";
  ASSERT_EQ(::kill(reader, SIGCONT), 0);
  // Resumed: echo must go off again before the user types the key.
  EXPECT_TRUE(wait_for([&] { return !echo_on(master); })) << "echo stayed on after resuming";
  const std::string typed = "sk-ant-secret\n";
  ASSERT_EQ(::write(master, typed.data(), typed.size()), static_cast<ssize_t>(typed.size()));
  int status = 0;
  bool reaped = false;
  std::string shown;
  // Bounded by time, not by turns: once the reader is gone the master reads EIO at once, and
  // the leader's exit (slow under ASan, which unmaps its shadow memory) may still take a while.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!reaped && std::chrono::steady_clock::now() < give_up) {
    shown += read_until(master, "\n", 20);
    reaped = ::waitpid(leader, &status, WNOHANG) == leader;
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  shown += read_until(master, "\x01", 50);
  EXPECT_EQ(shown.find("sk-ant-secret"), std::string::npos) << "the key was echoed: " << shown;
  EXPECT_TRUE(reaped && WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader status " << status;
  if (!reaped) {
    ::kill(reader, SIGKILL);
    ::kill(leader, SIGKILL);
    ::waitpid(leader, &status, 0);
  }
  ::close(master);
}
