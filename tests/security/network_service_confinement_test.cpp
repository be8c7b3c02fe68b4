// Attacks on the network service's own process: the proxy and the gateway parse hostile input
// from the sandbox, so whatever code runs there must not reach the host's files, programs or
// processes. The running service is inspected through /proc; the attacks themselves run in a
// forked child confined by the same function the service calls (confine_network_service),
// because the product has no way, on purpose, to make the service run arbitrary code.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "net/network_service.hpp"
#include "net/service_confinement.hpp"
#include "support/net_proxy_harness.hpp"
#include "support/net_upstream.hpp"
#include "support/required_feature.hpp"
#include "support/temp_dir.hpp"

using namespace cc;
using namespace cc::test;

namespace {

std::map<std::string, std::string> status_of_process(pid_t pid) {
  std::map<std::string, std::string> fields;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    fields[line.substr(0, colon)] = value;
  }
  return fields;
}

bool landlock_available() {
  return ::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U) > 0;
}

// Runs `attack` in a forked child after confining it with the audit directory `audit_dir`.
// Returns the wait status; the attack's own result is its exit code (0: the attack failed as
// it must). Nothing is thrown across the fork.
int confined_child(const std::filesystem::path& audit_dir, const std::function<int()>& attack) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 100;
    try {
      net::ServiceConfinement c;
      c.audit_dir = audit_dir;
      c.readable_files = net::name_resolution_files();
      net::confine_network_service(c);
      code = attack();
    } catch (...) {
      code = 101;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool killed_by_sigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }

}  // namespace

// Mechanism: capset + PR_CAPBSET_DROP + no_new_privs + seccomp, applied by the service itself.
TEST(NetworkServiceConfinement, RunningServiceHasNoCapabilitiesAndAFilter) {
  TempDir dir("cc-net-confined");
  std::filesystem::create_directories(dir / "audit");
  net::NetworkServiceSpec spec;
  spec.network = network_config(config::NetworkPolicy::none);
  spec.audit_log = dir / "audit" / "network.jsonl";
  spec.executable = CC_BINARY;
  std::uint16_t port = 0;
  spec.proxy_listeners.push_back(listen_on_loopback(&port, "proxy"));
  auto service = net::NetworkService::launch(std::move(spec));
  (void)service.stats();  // answered once the service is confined and serving
  auto status = status_of_process(service.pid());
  EXPECT_EQ(status["CapEff"], "0000000000000000");
  EXPECT_EQ(status["CapPrm"], "0000000000000000");
  EXPECT_EQ(status["CapInh"], "0000000000000000");
  EXPECT_EQ(status["CapAmb"], "0000000000000000");
  if (::geteuid() == 0) {
    EXPECT_EQ(status["CapBnd"], "0000000000000000");
  }
  EXPECT_EQ(status["NoNewPrivs"], "1");
  EXPECT_EQ(status["Seccomp"], "2");
  // No control socket or other listener than the one handed over, no files but its audit log.
  std::string fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(service.pid()) + "/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (target.rfind("socket:", 0) == 0 || target.rfind("anon_inode:", 0) == 0 || target.rfind("pipe:", 0) == 0 ||
        target == "/dev/null" || target.find("network.jsonl") != std::string::npos)
      continue;
    if (entry.path().filename() == "1" || entry.path().filename() == "2") continue;  // the caller's log
    fds += entry.path().filename().string() + " -> " + target + "\n";
  }
  EXPECT_EQ(fds, "") << "the service holds descriptors it should not";
}

// Mechanism: Landlock. Reading anything but the resolver's files, or writing outside the audit
// directory, is refused even to root.
TEST(NetworkServiceConfinement, CannotOpenFilesBeyondItsAllowance) {
  CC_SKIP_UNLESS_FEATURE(landlock_available(), "landlock") << "the kernel has no Landlock";
  TempDir dir("cc-net-confined");
  std::filesystem::create_directories(dir / "audit");
  std::filesystem::create_directories(dir / "elsewhere");
  { std::ofstream(dir / "elsewhere" / "secret") << "secret"; }
  const auto audit = dir / "audit";
  const auto elsewhere = dir / "elsewhere";
  int status = confined_child(audit, [&] {
    auto refused = [](int fd) { return fd < 0 && errno == EACCES; };
    if (!refused(::open("/etc/shadow", O_RDONLY | O_CLOEXEC))) return 1;
    if (!refused(::open("/etc/passwd", O_RDONLY | O_CLOEXEC))) return 2;
    if (!refused(::open((elsewhere / "secret").c_str(), O_RDONLY | O_CLOEXEC))) return 3;
    if (!refused(::open((elsewhere / "new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600))) return 4;
    if (!refused(::open(elsewhere.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC))) return 5;
    if (::rename((audit / "x").c_str(), (elsewhere / "x").c_str()) == 0) return 6;
    // Its allowance: the audit log, created, appended and rotated within its directory...
    int fd = ::open((audit / "network.jsonl").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, "{}\n", 3) != 3) return 7;
    ::close(fd);
    if (::rename((audit / "network.jsonl").c_str(), (audit / "network.jsonl.1").c_str()) != 0) return 8;
    // ...but not read back (nothing it wrote is secret, but nothing needs it either).
    if (!refused(::open((audit / "network.jsonl.1").c_str(), O_RDONLY | O_CLOEXEC))) return 9;
    // The resolver's configuration stays readable.
    int hosts = ::open("/etc/hosts", O_RDONLY | O_CLOEXEC);
    if (hosts < 0 && errno != ENOENT) return 10;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "attack step " << WEXITSTATUS(status) << " was not refused";
}

// Mechanism: the seccomp allowlist (execve is not on it) and Landlock's execute right.
TEST(NetworkServiceConfinement, CannotExecutePrograms) {
  TempDir dir("cc-net-confined");
  std::filesystem::create_directories(dir / "audit");
  int status = confined_child(dir / "audit", [] {
    char sh[] = "/bin/sh";
    char* argv[] = {sh, nullptr};
    ::execv(sh, argv);
    return 1;  // execve came back: not killed
  });
  EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
}

// Mechanism: the seccomp allowlist (ptrace is not on it).
TEST(NetworkServiceConfinement, CannotTraceOtherProcesses) {
  TempDir dir("cc-net-confined");
  std::filesystem::create_directories(dir / "audit");
  const pid_t parent = ::getpid();
  int status = confined_child(dir / "audit", [parent] {
    ::ptrace(PTRACE_ATTACH, parent, nullptr, nullptr);
    return 1;
  });
  EXPECT_TRUE(killed_by_sigsys(status)) << "status " << status;
}

// Mechanism: clone is allowed with CLONE_THREAD only; kill is not on the allowlist.
TEST(NetworkServiceConfinement, CannotForkOrSignalOthers) {
  TempDir dir("cc-net-confined");
  std::filesystem::create_directories(dir / "audit");
  int forked = confined_child(dir / "audit", [] {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    return 1;
  });
  EXPECT_TRUE(killed_by_sigsys(forked)) << "status " << forked;
  const pid_t parent = ::getpid();
  int signalled = confined_child(dir / "audit", [parent] {
    ::kill(parent, 0);
    return 1;
  });
  EXPECT_TRUE(killed_by_sigsys(signalled)) << "status " << signalled;
}

// Mechanism: socket() is filtered by family: no raw packets, no VM host channel, no unix
// sockets (socketpair is not on the allowlist).
TEST(NetworkServiceConfinement, CannotOpenPacketVsockOrUnixSockets) {
  TempDir dir("cc-net-confined");
  std::filesystem::create_directories(dir / "audit");
  int status = confined_child(dir / "audit", [] {
    if (::socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno != EAFNOSUPPORT) return 1;
    if (::socket(AF_VSOCK, SOCK_STREAM, 0) >= 0 || errno != EAFNOSUPPORT) return 2;
    if (::socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */) >= 0 || errno != EAFNOSUPPORT) return 3;
    // A host's unix sockets (a container engine's API socket) are beyond Landlock's reach.
    if (::socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno != EAFNOSUPPORT) return 5;
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0) return 6;
    int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (tcp < 0) return 4;  // what the proxy needs still works
    ::close(tcp);
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "attack step " << WEXITSTATUS(status) << " was not refused";
}
