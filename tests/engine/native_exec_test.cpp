// exec and shell in a running container: exit status, byte-exact pipes, pty with window
// size changes, hostname, environment, pid 1 (reaping and SIGTERM forwarding).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

class NativeExecTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
  }
  void start() {
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(NativeExecTest, ExitStatusPassesThrough) {
  start();
  EXPECT_EQ(env_->exec({"true"}).exit_code, 0);
  EXPECT_EQ(env_->exec({"false"}).exit_code, 1);
  EXPECT_EQ(env_->exec({"sh", "-c", "exit 42"}).exit_code, 42);
  EXPECT_EQ(env_->exec({"sh", "-c", "kill -9 $$"}).exit_code, 137);
  auto missing = env_->exec({"no-such-command-here"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("no-such-command-here: command not found"), std::string::npos) << missing.err;
  auto not_exec = env_->exec({"/etc/hostname"});
  EXPECT_EQ(not_exec.exit_code, 126) << describe(not_exec);
}

TEST_P(NativeExecTest, PipesAreBinaryExactAndSeparate) {
  start();
  std::string data(1 << 20, '\0');
  std::mt19937 rng(12345);
  for (auto& c : data) c = static_cast<char>(rng() & 0xff);
  auto r = env_->exec({"cat"}, data);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.out.size(), data.size());
  EXPECT_TRUE(r.out == data);
  auto split = env_->exec({"sh", "-c", "printf to-out; printf to-err >&2; exit 3"});
  EXPECT_EQ(split.exit_code, 3);
  EXPECT_EQ(split.out, "to-out");
  EXPECT_EQ(split.err, "to-err");
  auto empty = env_->exec({"cat"});  // stdin closed at once
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_EQ(empty.out, "");
  auto pwd = env_->exec({"pwd"});
  EXPECT_EQ(pwd.out, "/workspace\n");
}

TEST_P(NativeExecTest, HostnameIsTheContainerName) {
  start();
  auto r = env_->exec({"cat", "/proc/sys/kernel/hostname"});
  EXPECT_EQ(r.out, env_->name() + "\n") << describe(r);
}

TEST_P(NativeExecTest, EnvironmentIsBuiltNotInherited) {
  env_->write_project_file("vars.env", "# comment\nFROM_FILE=file-value\nexport QUOTED=\"q v\"\n");
  env_->write_config("volume", "none", "\"env\": {\"FROM_CONFIG\": \"config-value\"}, \"env_file\": \"vars.env\"");
  start();
  auto options = env_->options();
  options.env["ANTHROPIC_API_KEY"] = "sk-ant-host-secret";
  options.env["GITHUB_TOKEN"] = "ghp_hostsecret";
  options.env["SSH_AUTH_SOCK"] = "/tmp/agent.sock";
  options.env["LC_ALL"] = "C.UTF-8";
  options.env["TERM"] = "xterm-test";
  auto r = run_cli({"--project", env_->project().string(), "exec", "--", "env"}, options);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out.find("sk-ant-host-secret"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("ghp_hostsecret"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("SSH_AUTH_SOCK"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CC_TEST_MARKER"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("XDG_RUNTIME_DIR"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("TERM=xterm-test\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LC_ALL=C.UTF-8\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HOME=/root\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PATH=/run/claude-code/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("CLAUDE_CONFIG_DIR=/root/.claude\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FROM_CONFIG=config-value\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FROM_FILE=file-value\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("QUOTED=q v\n"), std::string::npos) << r.out;
}

TEST_P(NativeExecTest, Pid1ReapsOrphans) {
  start();
  // The inner shell leaves `sleep` orphaned; it is re-parented to pid 1 and, once it exits,
  // must be reaped rather than linger as a zombie.
  auto r = env_->exec({"sh", "-c",
                       "sh -c 'sleep 0.2 &'; sleep 1.5; "
                       "for s in /proc/[0-9]*/stat; do cut -d' ' -f3 \"$s\"; done | grep -c Z || true"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "0\n") << describe(r);
  auto parent = env_->exec({"sh", "-c", "sleep 5 & sleep 0.2; cat /proc/1/stat | cut -d' ' -f2"});
  EXPECT_NE(parent.out.find("claude-contain"), std::string::npos) << describe(parent);
}

TEST_P(NativeExecTest, StopDeliversSigtermThroughPid1) {
  start();
  auto running = std::async(std::launch::async, [&] {
    return env_->exec({"sh", "-c",
                       "trap 'echo got-term > /workspace/term.txt; exit 0' TERM; echo up > /workspace/up.txt; "
                       "while :; do sleep 0.1; done"});
  });
  fs::path up = env_->container_data() / "workspace" / "up.txt";
  for (int i = 0; i < 400 && !fs::exists(up); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(up));
  auto stop = env_->cli({"stop", "--timeout", "20"});
  EXPECT_EQ(stop.exit_code, 0) << describe(stop);
  running.get();
  std::ifstream term(env_->container_data() / "workspace" / "term.txt");
  std::string text((std::istreambuf_iterator<char>(term)), {});
  EXPECT_EQ(text, "got-term\n");
  auto logs = env_->cli({"logs"});
  EXPECT_NE(logs.out.find("forwarding it to every process"), std::string::npos) << logs.out;
}

// Drives `claude-container shell` through a real pty.
class PtyShell {
 public:
  PtyShell(const EngineEnv& env, unsigned short rows, unsigned short cols) {
    winsize ws{rows, cols, 0, 0};
    auto options = env.options();
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = {CC_BINARY, "--project", env.project().string(), "shell"};
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      if (options.gid) {
        ::setgroups(0, nullptr);
        if (::setgid(*options.gid) != 0) ::_exit(126);
      }
      if (options.uid && ::setuid(*options.uid) != 0) ::_exit(126);
      if (::chdir(env.project().c_str()) != 0) ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~PtyShell() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  bool ok() const { return pid_ > 0 && master_ >= 0; }
  void type(const std::string& text) { ASSERT_EQ(::write(master_, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
  // Reads until `needle` appears (bounded wait); returns everything read.
  std::string read_until(const std::string& needle, int seconds = 30) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (seen_.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(master_, buf, sizeof(buf));
      if (n <= 0) break;
      seen_.append(buf, static_cast<size_t>(n));
    }
    std::string all = seen_;
    auto pos = seen_.find(needle);
    if (pos != std::string::npos) seen_ = seen_.substr(pos + needle.size());
    return all;
  }
  void resize(unsigned short rows, unsigned short cols) {
    winsize ws{rows, cols, 0, 0};
    ::ioctl(master_, TIOCSWINSZ, &ws);
  }
  int wait_exit() {
    // Drain so the child never blocks on a full pty.
    read_until("\x01never\x01", 20);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  std::string seen_;
};

TEST_P(NativeExecTest, ShellRunsOnAPtyWithResizeAndJobControl) {
  start();
  PtyShell shell(*env_, 24, 80);
  ASSERT_TRUE(shell.ok());
  shell.type("echo hello-$((6*7))\n");
  auto out = shell.read_until("hello-42");
  ASSERT_NE(out.find("hello-42"), std::string::npos) << out;
  shell.type("stty size; tty\n");
  out = shell.read_until("/dev/pts/");
  EXPECT_NE(out.find("24 80"), std::string::npos) << out;
  shell.resize(50, 132);
  shell.type("stty size\n");
  out = shell.read_until("50 132");
  EXPECT_NE(out.find("50 132"), std::string::npos) << out;
  shell.type("sleep 30 & jobs; echo jobs-$?\n");
  out = shell.read_until("jobs-0");
  EXPECT_NE(out.find("Running"), std::string::npos) << out;
  shell.type("kill %1; exit 7\n");
  EXPECT_EQ(shell.wait_exit(), 7);
}

INSTANTIATE_TEST_SUITE_P(Users, NativeExecTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
