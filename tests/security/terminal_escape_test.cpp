// A program inside must not reach the caller's terminal or processes (issue 9, part 1): a
// process left behind by a non-terminal `exec` cannot open the host terminal, make itself its
// foreground group, or write to it, and `kill 0` inside signals nothing outside; TIOCSTI is
// refused on both exec paths (issue 14).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/engine_env.hpp"
#include "support/required_feature.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

// The leftover: waits for the test's go-ahead (so `exec` has returned), then attacks the
// terminal it was started from and records every errno (0 = the call succeeded).
const char* const kLeftover = R"PY(
import errno, os, sys, time
if os.fork() != 0:
    os._exit(0)
while not os.path.exists('/workspace/go'):
    time.sleep(0.05)
def attempt(fn):
    try:
        fn(); return 0
    except OSError as e:
        return e.errno
out = []
out.append('open_tty=%d' % attempt(lambda: os.close(os.open('/dev/tty', os.O_RDWR))))
for fd in (0, 1, 2):
    out.append('isatty%d=%d' % (fd, int(os.isatty(fd))))
    out.append('tcsetpgrp%d=%d' % (fd, attempt(lambda: os.tcsetpgrp(fd, os.getpgrp()))))
out.append('write2=%d' % attempt(lambda: os.write(2, b'LEFTOVER-WROTE-HERE\n')))
with open('/workspace/result.tmp', 'w') as f:
    f.write(' '.join(out) + '\n')
os.rename('/workspace/result.tmp', '/workspace/result.txt')
)PY";

std::string read_available(int fd) {
  std::string text;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Child side of a fork: become the test user and exec the CLI.
[[noreturn]] void exec_cli(const EngineEnv& env, const std::vector<std::string>& args) {
  auto options = env.options();
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<std::string> argv = {CC_BINARY, "--project", env.project().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  if (options.gid) {
    ::setgroups(0, nullptr);
    if (::setgid(*options.gid) != 0) ::_exit(126);
  }
  if (options.uid && ::setuid(*options.uid) != 0) ::_exit(126);
  if (::chdir(env.project().c_str()) != 0) ::_exit(126);
  auto a = c_strings(argv);
  auto e = c_strings(env_strings);
  ::execve(a[0], a.data(), e.data());
  ::_exit(127);
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class TerminalEscapeTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "bind", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    CC_SKIP_UNLESS_FEATURE(env_->exec({"sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
        << "python3 is needed inside for the attacking program";
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(TerminalEscapeTest, LeftoverOfANonTerminalExecCannotReachTheCallersTerminal) {
  env_->write_project_file("leftover.py", kLeftover);
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  // The caller: a session whose controlling terminal is our pty, in its foreground group;
  // stdin from /dev/null and stdout to a pipe (so exec uses no pty), stderr on the terminal.
  pid_t cli = ::fork();
  ASSERT_GE(cli, 0);
  if (cli == 0) {
    ::setsid();
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(125);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(slave, 2);
    ::close(master);
    ::close(out_pipe[0]);
    exec_cli(*env_, {"exec", "--", "python3", "/workspace/leftover.py"});
  }
  ::close(out_pipe[1]);
  EXPECT_EQ(wait_status(cli), 0);
  ::close(out_pipe[0]);
  pid_t caller_group = ::tcgetpgrp(master);
  env_->write_project_file("go", "");
  fs::path result = env_->project() / "result.txt";
  for (int i = 0; i < 600 && !fs::exists(result); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(result)) << "the leftover process never reported";
  std::ifstream in(result);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  // ENXIO: no controlling terminal; ENOTTY: no terminal among its descriptors; EPIPE: its
  // stderr is a pipe nobody reads any more.
  EXPECT_EQ(text,
            "open_tty=6 isatty0=0 tcsetpgrp0=25 isatty1=0 tcsetpgrp1=25 isatty2=0 tcsetpgrp2=25 write2=32\n");
  // The terminal's foreground group is still the caller's, and nothing reached the screen.
  EXPECT_EQ(::tcgetpgrp(master), caller_group);
  EXPECT_EQ(read_available(master).find("LEFTOVER-WROTE-HERE"), std::string::npos);
  ::close(slave);
  ::close(master);
}

TEST_P(TerminalEscapeTest, OutputToATerminalStillArrivesWithoutAPty) {
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  pid_t cli = ::fork();
  ASSERT_GE(cli, 0);
  if (cli == 0) {
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);  // stdin not a terminal: no pty, stdout/stderr relayed
    ::dup2(slave, 1);
    ::dup2(slave, 2);
    ::close(master);
    exec_cli(*env_, {"exec", "--", "sh", "-c", "echo to-terminal; echo err-to-terminal >&2; exit 5"});
  }
  std::string seen;
  char buf[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    ssize_t n = ::read(master, buf, sizeof(buf));
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
    if (seen.find("err-to-terminal") != std::string::npos) break;
  }
  EXPECT_EQ(wait_status(cli), 5);
  EXPECT_NE(seen.find("to-terminal"), std::string::npos) << seen;
  EXPECT_NE(seen.find("err-to-terminal"), std::string::npos) << seen;
  ::close(slave);
  ::close(master);
}

TEST_P(TerminalEscapeTest, KillZeroInsideSignalsNothingOutside) {
  // The caller's process group holds a bystander; `kill -TERM 0` and `kill -TERM -1` inside
  // must reach neither it nor the caller.
  pid_t group = ::fork();
  ASSERT_GE(group, 0);
  if (group == 0) {
    ::setpgid(0, 0);
    // The caller's own user, so only the sandbox stands between them.
    if (::getuid() == 0 && (::setgid(env_->gid()) != 0 || ::setuid(env_->uid()) != 0)) ::_exit(126);
    ::execl("/bin/sleep", "sleep", "600", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(group, group);
  pid_t cli = ::fork();
  ASSERT_GE(cli, 0);
  if (cli == 0) {
    ::setpgid(0, group);
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    exec_cli(*env_, {"exec", "--", "sh", "-c", "kill -TERM -1; kill -TERM 0; exit 3"});
  }
  ::setpgid(cli, group);
  int status = wait_status(cli);
  // The command's own group is the command alone: the shell killed itself (143).
  EXPECT_EQ(status, 143);
  EXPECT_TRUE(process_running(group)) << "the bystander in the caller's process group was killed";
  ::kill(group, SIGKILL);
  wait_status(group);
  // The container itself survived its own `kill -1`.
  auto r = env_->exec({"true"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// TIOCSTI pushes bytes into a terminal's input queue: from the caller's terminal they would
// be run by the caller's shell once `exec` returns. Without a terminal (stdin not a tty) the
// command holds none of the caller's terminal descriptors and has no controlling terminal
// (setsid), and the seccomp filter refuses TIOCSTI whatever the descriptor: EPERM on each.
TEST_P(TerminalEscapeTest, TiocstiWithoutAPtyIsDeniedAndInjectsNothing) {
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  // Non-canonical, so anything pushed into the caller's input queue is readable at once.
  termios mode{};
  ASSERT_EQ(::tcgetattr(slave, &mode), 0);
  mode.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  mode.c_cc[VMIN] = 0;
  mode.c_cc[VTIME] = 0;
  ASSERT_EQ(::tcsetattr(slave, TCSANOW, &mode), 0);
  int out_pipe[2];
  ASSERT_EQ(::pipe(out_pipe), 0);
  const std::string code =
      "import fcntl, os, termios\n"
      "def attempt(fn):\n"
      "    try:\n"
      "        fn(); return 0\n"
      "    except OSError as e:\n"
      "        return e.errno\n"
      "out = []\n"
      "for fd in (0, 1, 2):\n"
      "    out.append('tiocsti%d=%d' % (fd, attempt(lambda: fcntl.ioctl(fd, termios.TIOCSTI, b'Q'))))\n"
      "out.append('open_tty=%d' % attempt(lambda: os.open('/dev/tty', os.O_RDWR)))\n"
      "print(' '.join(out))\n";
  pid_t cli = ::fork();
  ASSERT_GE(cli, 0);
  if (cli == 0) {
    ::setsid();
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(125);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(slave, 2);
    ::close(master);
    ::close(out_pipe[0]);
    exec_cli(*env_, {"exec", "--", "python3", "-c", code});
  }
  ::close(out_pipe[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(out_pipe[0], buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(out_pipe[0]);
  EXPECT_EQ(wait_status(cli), 0);
  EXPECT_EQ(out, "tiocsti0=1 tiocsti1=1 tiocsti2=1 open_tty=6\n");
  // Nothing waits in the caller's input queue.
  EXPECT_EQ(read_available(slave), "");
  ::close(slave);
  ::close(master);
}

// With a pty (`shell`, or `exec` on a terminal) the command's terminal is the container's own
// pty, and the seccomp filter refuses TIOCSTI on it too: EPERM, where the kernel would push the
// bytes into the pty and the shell inside would read them.
TEST_P(TerminalEscapeTest, TiocstiOnThePtyPathIsDeniedBySeccomp) {
  int master = -1, slave = -1;
  ASSERT_EQ(::openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  const std::string code =
      "import fcntl, os, termios\n"
      "try:\n"
      "    for c in b'ZQJ':\n"
      "        fcntl.ioctl(0, termios.TIOCSTI, bytes([c]))\n"
      "    print('tiocsti=0')\n"
      "except OSError as e:\n"
      "    print('tiocsti=%d tty=%d' % (e.errno, int(os.isatty(0))))\n";
  pid_t cli = ::fork();
  ASSERT_GE(cli, 0);
  if (cli == 0) {
    ::setsid();
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) ::_exit(125);
    for (int fd = 0; fd < 3; ++fd) ::dup2(slave, fd);
    ::close(master);
    exec_cli(*env_, {"exec", "--", "python3", "-c", code});
  }
  ::close(slave);
  std::string seen;
  char buf[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;  // a safety net against a hang, not a measurement
    ssize_t n = ::read(master, buf, sizeof(buf));
    if (n <= 0) break;  // EIO: the CLI closed the terminal
    seen.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(wait_status(cli), 0);
  EXPECT_NE(seen.find("tiocsti=1 tty=1"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("ZQJ"), std::string::npos) << seen;
  ::close(master);
}

INSTANTIATE_TEST_SUITE_P(Users, TerminalEscapeTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
