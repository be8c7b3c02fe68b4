// The kernel's surface a program inside can reach (issue 14, smaller holes). Each test names the
// mechanism that stops the attack:
//  - /proc masks (rootfs.cpp): the entries runc masks read as nothing, the tunables are read-only;
//  - the seccomp filter (hardening.cpp): io_uring and AF_VSOCK sockets fail with EPERM, which the
//    kernel itself would not answer (ENOSYS / EAFNOSUPPORT / success);
//  - the capability set (hardening.cpp): no CAP_NET_RAW, so no raw socket; ping's ICMP datagram
//    sockets still work (sandbox.cpp opens ping_group_range in the container's netns).
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Prints errno of a call (0 = it succeeded).
const char* const kPrelude =
    "import ctypes, errno, os, socket\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def attempt(fn):\n"
    "    try:\n"
    "        fn(); return 0\n"
    "    except OSError as e:\n"
    "        return e.errno\n";

class KernelSurface : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    CC_SKIP_UNLESS_FEATURE(env_->exec({"sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
        << "python3 is needed inside for raw system calls";
  }
  CommandResult python(const std::string& code) { return env_->exec({"python3", "-c", std::string(kPrelude) + code}); }
  std::unique_ptr<EngineEnv> env_;
};

// Mechanism: /proc masks. Unmasked, /proc/keys lists keys, /proc/timer_list and sched_debug
// show every CPU's timers and tasks, /proc/kcore is the kernel's memory.
TEST_P(KernelSurface, ProcMasksHideKernelInternals) {
  int checked = 0;
  for (const char* entry : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/interrupts",
                            "/proc/latency_stats", "/proc/timer_stats"}) {
    struct stat st {};
    if (::lstat(entry, &st) != 0) continue;  // this kernel has no such entry: nothing to mask
    ++checked;
    // /dev/null over it (read-only): a character device 1:3 that reads as nothing.
    auto r = python(std::string("p = '") + entry +
                    "'\n"
                    "st = os.stat(p)\n"
                    "print(os.major(st.st_rdev), os.minor(st.st_rdev), len(open(p, 'rb').read()))\n");
    EXPECT_EQ(r.out, "1 3 0\n") << entry << "\n" << describe(r);
  }
  EXPECT_GT(checked, 0) << "this kernel has none of the masked /proc files";
  for (const char* entry : {"/proc/acpi", "/proc/asound", "/proc/scsi"}) {
    if (!fs::is_directory(entry)) continue;
    // An empty read-only tmpfs over it.
    auto r = python(std::string("p = '") + entry +
                    "'\n"
                    "print(len(os.listdir(p)), attempt(lambda: os.mkdir(p + '/x')))\n");
    EXPECT_EQ(r.out, "0 30\n") << entry << "\n" << describe(r);
  }
}

// Mechanism: /proc read-only paths. sysrq-trigger would crash or reboot the host's kernel,
// /proc/sys holds its tunables; each is a read-only mount (EROFS, not a permission check).
TEST_P(KernelSurface, ProcTunablesAreReadOnly) {
  for (const char* entry : {"/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/sysrq-trigger"}) {
    if (!fs::exists(entry)) continue;  // not on this kernel (sysrq needs CONFIG_MAGIC_SYSRQ)
    auto r = python(std::string("print(os.statvfs('") + entry + "').f_flag & os.ST_RDONLY)\n");
    EXPECT_EQ(r.out, "1\n") << entry << "\n" << describe(r);
  }
  auto r = python(
      "print(attempt(lambda: open('/proc/sys/kernel/hostname', 'w').write('escaped')))\n"
      "print(attempt(lambda: open('/proc/sys/net/ipv4/ip_forward', 'w').write('1')))\n"
      "print(os.path.exists('/proc/sysrq-trigger') and attempt(lambda: open('/proc/sysrq-trigger', 'wb').write(b'h')))\n");
  EXPECT_EQ(r.out, std::string("30\n30\n") + (fs::exists("/proc/sysrq-trigger") ? "30\n" : "False\n")) << describe(r);
}

// Mechanism: seccomp. io_uring submits I/O without system calls the filter could see; the
// kernel would answer io_uring_setup(1, NULL) with EFAULT, the filter with EPERM.
TEST_P(KernelSurface, IoUringIsDeniedBySeccomp) {
  auto r = python(
      "def call(nr, *args):\n"
      "    return 0 if libc.syscall(nr, *args) >= 0 else ctypes.get_errno()\n"
      "print(call(425, 1, None), call(426, 0, 0, 0, 0, None, 0), call(427, 0, 0, None, 0))\n");
  EXPECT_EQ(r.out, "1 1 1\n") << describe(r);
}

// Mechanism: seccomp. A VM's channel to its hypervisor; the kernel would say EAFNOSUPPORT
// (no vsock) or create the socket, the filter says EPERM.
TEST_P(KernelSurface, VsockSocketsAreDeniedBySeccomp) {
  auto r = python(
      "print(attempt(lambda: socket.socket(40, socket.SOCK_STREAM)), attempt(lambda: socket.socket(40, "
      "socket.SOCK_DGRAM)))\n");
  EXPECT_EQ(r.out, "1 1\n") << describe(r);
}

// Mechanism: the capability set. A raw socket needs CAP_NET_RAW, which is not in the bounding
// set; ping's unprivileged ICMP sockets still open.
TEST_P(KernelSurface, NoRawSocketsWithoutNetRaw) {
  auto bnd = env_->exec({"grep", "^CapBnd:", "/proc/self/status"});
  ASSERT_EQ(bnd.exit_code, 0) << describe(bnd);
  unsigned long long caps = std::stoull(bnd.out.substr(bnd.out.find('\t') + 1), nullptr, 16);
  EXPECT_EQ(caps & (1ull << 13), 0u) << "CAP_NET_RAW kept: " << bnd.out;
  auto r = python(
      "print(attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)))\n"
      "print(attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)))\n"
      "print(attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)))\n");
  EXPECT_EQ(r.out, "1\n1\n0\n") << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Users, KernelSurface, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
