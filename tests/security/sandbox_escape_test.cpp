// Attacks on the native sandbox from inside. Each must fail, and for the right reason: the
// path does not exist in the container, the kernel refuses with EPERM (seccomp/capabilities),
// the file system is read-only, or the network namespace has nothing to connect to.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/engine_env.hpp"
#include "util/unique_fd.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

class SandboxEscapeTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "bind", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  // Whether the container (not this host) has `program` on its PATH.
  bool has_inside(const std::string& program) { return env_->exec({"sh", "-c", "command -v " + program}).exit_code == 0; }
  // Runs a Python snippet inside that prints the errno of a system call (0 = it succeeded).
  CommandResult python(const std::string& code) { return env_->exec({"python3", "-c", code}); }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(SandboxEscapeTest, HostFilesOutsideTheProjectDoNotExist) {
  fs::path secret = env_->root() / "secret-outside-project.txt";
  std::ofstream(secret) << "TOPSECRET\n";
  fs::path host_home_file = env_->home_dir() / ".host-token";
  std::ofstream(host_home_file) << "TOPSECRET\n";
  for (const auto& path : {secret, host_home_file, env_->home_dir()}) {
    auto r = env_->exec({"cat", path.string()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos);
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << path << "\n" << describe(r);
  }
  // /root is the container's own home, holding only the agent's state prepared at start; /home is empty.
  auto home = env_->exec({"sh", "-c", "ls -A /home | wc -l; ls -A /root"});
  EXPECT_EQ(home.out, "0\n.claude\n") << describe(home);
  // Host sockets: docker, D-Bus, X11 are not there.
  for (const char* path : {"/var/run/docker.sock", "/run/dbus/system_bus_socket", "/tmp/.X11-unix", "/run/user"}) {
    auto r = env_->exec({"test", "-e", path});
    EXPECT_EQ(r.exit_code, 1) << path;
  }
}

TEST_P(SandboxEscapeTest, HostEnvironmentIsNotReadableThroughPid1) {
  // The supervisor and pid 1 are forked from the CLI, whose environment held a token.
  ASSERT_EQ(env_->cli({"stop"}).exit_code, 0);
  auto options = env_->options();
  options.env["ANTHROPIC_API_KEY"] = "sk-ant-host-secret-in-environ";
  auto start = run_cli({"--project", env_->project().string(), "start"}, options);
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto r = env_->exec({"sh", "-c", "cat /proc/1/environ; for f in /proc/[0-9]*/environ; do cat $f; done"});
  EXPECT_EQ(r.out.find("sk-ant-host-secret-in-environ"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("/proc/1/environ: Permission denied"), std::string::npos) << describe(r);
  auto mem = env_->exec({"sh", "-c", "grep -c sk-ant /proc/1/mem"});
  EXPECT_NE(mem.exit_code, 0);
  EXPECT_NE(mem.err.find("Permission denied"), std::string::npos) << describe(mem);
}

TEST_P(SandboxEscapeTest, RealRootHomeIsInvisible) {
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root-engine") << "needs root to plant a file in /root";
  fs::path planted = fs::path("/root") / ("cc-test-secret-" + env_->name());
  std::ofstream(planted) << "TOPSECRET\n";
  auto r = env_->exec({"cat", planted.string()});
  fs::remove(planted);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << describe(r);
}

TEST_P(SandboxEscapeTest, EtcSecretsAreMaskedAndSystemIsReadOnly) {
  auto shadow = env_->exec({"sh", "-c", "wc -c < /etc/shadow"});
  EXPECT_EQ(shadow.exit_code, 0) << describe(shadow);
  EXPECT_EQ(shadow.out, "0\n");
  auto passwd = env_->exec({"sh", "-c", "grep -c '^root:' /etc/passwd"});
  EXPECT_EQ(passwd.out, "1\n");  // the rest of /etc is there
  for (const char* path : {"/usr/bin/evil", "/etc/evil", "/evil"}) {
    auto r = env_->exec({"touch", path});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << path << "\n" << describe(r);
  }
}

TEST_P(SandboxEscapeTest, MountAndNamespaceSyscallsAreRefused) {
  CC_SKIP_UNLESS_FEATURE(has_inside("python3"), "container-python3") << "python3 is needed inside for raw system calls";
  const std::string prelude =
      "import ctypes, os\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "def err(rc):\n"
      "    return 0 if rc == 0 else ctypes.get_errno()\n";
  // Unmounting the mask over /etc/shadow would reveal the host's file.
  auto umount = python(prelude + "print(err(libc.umount2(b'/etc/shadow', 2)))");
  EXPECT_EQ(umount.out, "1\n") << describe(umount);  // EPERM
  auto mount = python(prelude + "print(err(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)))");
  EXPECT_EQ(mount.out, "1\n") << describe(mount);
  auto userns = python(prelude + "print(err(libc.unshare(0x10000000)))");  // CLONE_NEWUSER
  EXPECT_EQ(userns.out, "1\n") << describe(userns);
  auto keyctl = python(prelude + "print(err(libc.syscall(250, 0, 0, 0, 0, 0)))");  // keyctl
  EXPECT_EQ(keyctl.out, "1\n") << describe(keyctl);
  auto bpf = python(prelude + "print(err(libc.syscall(321, 0, 0, 0)))");  // bpf
  EXPECT_EQ(bpf.out, "1\n") << describe(bpf);
  auto setns = python(prelude + "fd = os.open('/proc/self/ns/mnt', os.O_RDONLY)\nprint(err(libc.setns(fd, 0)))");
  EXPECT_EQ(setns.out, "1\n") << describe(setns);
}

TEST_P(SandboxEscapeTest, HardeningIsInPlace) {
  auto r = env_->exec({"grep", "-E", "^(NoNewPrivs|Seccomp|CapEff|CapBnd):", "/proc/self/status"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
  auto bnd = r.out.substr(r.out.find("CapBnd:\t") + 8, 16);
  unsigned long long caps = std::stoull(bnd, nullptr, 16);
  EXPECT_EQ(caps & (1ull << 21), 0u) << "CAP_SYS_ADMIN kept: " << bnd;
  EXPECT_EQ(caps & (1ull << 19), 0u) << "CAP_SYS_PTRACE kept: " << bnd;
  EXPECT_EQ(caps & (1ull << 12), 0u) << "CAP_NET_ADMIN kept: " << bnd;
  // Only the container's own processes are visible.
  auto procs = env_->exec({"sh", "-c", "ls /proc | grep -c '^[0-9]'"});
  EXPECT_LT(std::stoi(procs.out), 10) << procs.out;
}

TEST_P(SandboxEscapeTest, NoNetworkBeyondItsOwnLoopback) {
  CC_SKIP_UNLESS_FEATURE(has_inside("python3"), "container-python3") << "python3 is needed inside for raw sockets";
  // A server on the host's loopback: the container's loopback is another one.
  UniqueFd server(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(server.get(), 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(server.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  const std::string code =
      "import socket, errno\n"
      "def attempt(host, port):\n"
      "    s = socket.socket()\n"
      "    s.settimeout(5)\n"
      "    try:\n"
      "        s.connect((host, port)); return 'connected'\n"
      "    except OSError as e:\n"
      "        return errno.errorcode.get(e.errno, str(e))\n"
      "print(attempt('127.0.0.1', " + std::to_string(port) + "))\n"
      "print(attempt('192.0.2.1', 80))\n";
  auto r = env_->exec({"python3", "-c", code});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "ECONNREFUSED\nENETUNREACH\n") << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Users, SandboxEscapeTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
