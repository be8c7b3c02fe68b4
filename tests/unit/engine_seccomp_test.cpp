// The seccomp program the native engine installs in every process inside, loaded here in a
// forked child: it refuses io_uring and vsock sockets with EPERM and leaves ordinary calls
// alone; its cache key is a hash of the rules it is built from.
#include <gtest/gtest.h>

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/native/hardening.hpp"
#include "engine/native/paths.hpp"
#include "support/temp_dir.hpp"
#include "util/file_io.hpp"

namespace cc::engine::native {
namespace {

// Bit i of the child's exit status: check i did not get what it should have.
int run_under(const std::vector<sock_filter>& filter) {
  pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    sock_fprog prog{static_cast<unsigned short>(filter.size()), const_cast<sock_filter*>(filter.data())};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      ::_exit(0x80);
    }
    int bad = 0;
    // io_uring_setup(1, NULL): the kernel alone would say EFAULT (or ENOSYS without io_uring).
    if (::syscall(SYS_io_uring_setup, 1, nullptr) != -1 || errno != EPERM) bad |= 1;
    if (::syscall(SYS_io_uring_enter, -1, 0, 0, 0, nullptr, 0) != -1 || errno != EPERM) bad |= 2;
    if (::syscall(SYS_io_uring_register, -1, 0, nullptr, 0) != -1 || errno != EPERM) bad |= 4;
    // AF_VSOCK: the kernel alone would say EAFNOSUPPORT or make the socket.
    if (::socket(AF_VSOCK, SOCK_STREAM, 0) != -1 || errno != EPERM) bad |= 8;
    // An ordinary socket and an ordinary call still work.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) bad |= 16;
    if (::getppid() <= 0) bad |= 32;
    ::_exit(bad);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 0x100 | WTERMSIG(status);
}

TEST(SeccompFilter, RefusesIoUringAndVsockAndLeavesOrdinaryCallsAlone) {
  for (bool refuse_suid : {false, true}) {
    auto filter = build_seccomp_filter(refuse_suid);
    ASSERT_FALSE(filter.empty());
    EXPECT_EQ(run_under(filter), 0) << "refuse_suid " << refuse_suid;
  }
}

TEST(SeccompFilter, CacheKeyIsAHashOfTheRules) {
  const std::string plain = describe_seccomp_rules(false);
  const std::string nosuid = describe_seccomp_rules(true);
  // The variants differ, and the text names libseccomp's version and each rule (an action is
  // libseccomp's SCMP_ACT_ERRNO, the kernel's SECCOMP_RET_ERRNO with the errno).
  EXPECT_NE(plain, nosuid);
  EXPECT_EQ(plain.rfind("libseccomp ", 0), 0u) << plain;
  EXPECT_NE(plain.find("\n" + std::to_string(SECCOMP_RET_ERRNO | EPERM) + " " + std::to_string(SYS_io_uring_setup) + "\n"),
            std::string::npos)
      << plain;
  EXPECT_EQ(ContainerPaths::seccomp_key(), sha256_hex(plain + nosuid).substr(0, 16));
  ContainerPaths paths;
  paths.state_dir = "/state";
  EXPECT_EQ(paths.seccomp_cache(false), "/state/seccomp-" + ContainerPaths::seccomp_key() + ".bpf");
  EXPECT_EQ(paths.seccomp_cache(true), "/state/seccomp-" + ContainerPaths::seccomp_key() + "-nosuid.bpf");
}

}  // namespace
}  // namespace cc::engine::native

// A binary whose rules changed compiles a new program under a new key; the old ones go, and
// nothing that is not a cache of ours (another file, a link, a directory) is touched.
TEST(SeccompFilter, StaleCachesAreRemovedAndNothingElse) {
  cc::test::TempDir tmp;
  const auto& dir = tmp.path();
  const std::string key = cc::engine::native::ContainerPaths::seccomp_key();
  const std::vector<std::string> names = {"seccomp-" + key + ".bpf", "seccomp-" + key + "-nosuid.bpf",
                                         "seccomp-old1.bpf",          "seccomp-old2-nosuid.bpf",
                                         "config.json",               "seccomp-notes.txt"};
  for (const auto& name : names) {
    cc::write_file_atomic(dir / name, "x", 0600);
  }
  std::filesystem::create_directory(dir / "seccomp-dir.bpf");
  std::filesystem::create_symlink(dir / "config.json", dir / "seccomp-link.bpf");

  cc::engine::native::remove_stale_seccomp_caches(dir, key);

  EXPECT_TRUE(std::filesystem::exists(dir / ("seccomp-" + key + ".bpf")));
  EXPECT_TRUE(std::filesystem::exists(dir / ("seccomp-" + key + "-nosuid.bpf")));
  EXPECT_FALSE(std::filesystem::exists(dir / "seccomp-old1.bpf"));
  EXPECT_FALSE(std::filesystem::exists(dir / "seccomp-old2-nosuid.bpf"));
  EXPECT_TRUE(std::filesystem::exists(dir / "config.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "seccomp-notes.txt"));
  EXPECT_TRUE(std::filesystem::is_directory(dir / "seccomp-dir.bpf"));
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "seccomp-link.bpf"));
}
