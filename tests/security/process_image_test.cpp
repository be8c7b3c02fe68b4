// The container's supervisor and pid 1 are programs of their own, not forks of the CLI:
//  - the supervisor is this binary re-executed (argv[1] "__supervisor"), with none of the
//    CLI's memory or environment: a secret-looking variable given to the CLI is nowhere in it;
//  - pid 1 executes a sealed memory file (init_image.hpp), so /proc/1/exe is not the host's
//    binary, cannot be written, and holds none of the CLI's memory either.
// Mechanisms: execveat of /proc/self/exe with a filtered environment; memfd seals (and the
// kernel's refusal to write a running executable).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "support/engine_env.hpp"
#include "util/unique_fd.hpp"

namespace cc::test {
namespace {

using nlohmann::json;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whether `needle` is anywhere in the readable memory of `pid` (we are root or its owner).
// Returns nullopt when the memory could not be read at all.
std::optional<bool> memory_contains(pid_t pid, const std::string& needle) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  UniqueFd mem(::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  if (!maps || !mem) return std::nullopt;
  std::string line;
  bool read_any = false;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) != 3 || perms[0] != 'r') continue;
    if (line.find("[vvar") != std::string::npos || line.find("[vsyscall]") != std::string::npos) continue;
    std::string region(end - start, '\0');
    ssize_t n = ::pread(mem.get(), region.data(), region.size(), static_cast<off_t>(start));
    if (n <= 0) continue;
    read_any = true;
    region.resize(static_cast<size_t>(n));
    if (region.find(needle) != std::string::npos) return true;
  }
  if (!read_any) return std::nullopt;
  return false;
}

class ProcessImageTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "isolated");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    std::random_device random;
    canary_ = "cc-canary-" + std::to_string(random()) + std::to_string(random());
    env_->set_env("CC_TEST_SECRET_CANARY", canary_);
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    auto s = env_->cli({"--json", "status"});
    ASSERT_EQ(s.exit_code, 0) << describe(s);
    json status = json::parse(s.out);
    supervisor_ = status["supervisor_pid"].get<pid_t>();
    init_ = status["pid"].get<pid_t>();
  }
  std::unique_ptr<EngineEnv> env_;
  std::string canary_;
  pid_t supervisor_ = 0, init_ = 0;
};

TEST_P(ProcessImageTest, TheSupervisorIsThisBinaryReexecutedWithoutTheCli) {
  std::string cmdline = read_all("/proc/" + std::to_string(supervisor_) + "/cmdline");
  std::vector<std::string> argv;
  for (std::size_t at = 0; at < cmdline.size();) {
    auto end = cmdline.find('\0', at);
    argv.push_back(cmdline.substr(at, end - at));
    at = end == std::string::npos ? cmdline.size() : end + 1;
  }
  ASSERT_GE(argv.size(), 2u) << cmdline;
  EXPECT_EQ(argv[1], "__supervisor");
  // Its image is the binary itself (exec'd from it), not an anonymous copy.
  struct stat exe {}, binary {};
  ASSERT_EQ(::stat(("/proc/" + std::to_string(supervisor_) + "/exe").c_str(), &exe), 0);
  ASSERT_EQ(::stat(CC_BINARY, &binary), 0);
  EXPECT_EQ(exe.st_ino, binary.st_ino);
  EXPECT_EQ(exe.st_dev, binary.st_dev);
  // The CLI's environment stayed behind: not in its environ, nowhere in its memory.
  std::string environ = read_all("/proc/" + std::to_string(supervisor_) + "/environ");
  EXPECT_EQ(environ.find(canary_), std::string::npos) << environ;
  EXPECT_EQ(environ.find("HOME="), std::string::npos) << environ;
  auto found = memory_contains(supervisor_, canary_);
  ASSERT_TRUE(found.has_value()) << "cannot read the supervisor's memory";
  EXPECT_FALSE(*found) << "the CLI's environment is in the supervisor's memory";
}

TEST_P(ProcessImageTest, Pid1IsASealedMemoryFileAndNotTheHostBinary) {
  const std::string exe_link = "/proc/" + std::to_string(init_) + "/exe";
  UniqueFd exe(::open(exe_link.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(exe) << "cannot open " << exe_link << ": " << std::strerror(errno);
  struct stat image {}, binary {};
  ASSERT_EQ(::fstat(exe.get(), &image), 0);
  ASSERT_EQ(::stat(CC_BINARY, &binary), 0);
  EXPECT_FALSE(image.st_dev == binary.st_dev && image.st_ino == binary.st_ino) << "pid 1 runs the host binary";
  int seals = ::fcntl(exe.get(), F_GET_SEALS);
  ASSERT_GE(seals, 0) << "pid 1's image is not a memfd: " << std::strerror(errno);
  const int required = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  EXPECT_EQ(seals & required, required) << "seals " << seals;
  // Even with the host's privileges no one writes it.
  UniqueFd writable(::open(exe_link.c_str(), O_WRONLY | O_CLOEXEC));
  EXPECT_FALSE(writable) << "opened pid 1's image for writing";
  if (writable) {
    EXPECT_LT(::write(writable.get(), "x", 1), 0);
  }
  // Nothing of the CLI's memory is in pid 1 either.
  auto found = memory_contains(init_, canary_);
  ASSERT_TRUE(found.has_value()) << "cannot read pid 1's memory";
  EXPECT_FALSE(*found) << "the CLI's environment is in pid 1's memory";

  // From inside: /proc/1/exe cannot be opened for writing, and does not lead to the binary.
  auto write = env_->exec({"/bin/sh", "-c", "printf x 1<>/proc/1/exe"});
  EXPECT_NE(write.exit_code, 0) << describe(write);
  auto target = env_->exec({"/bin/sh", "-c", "readlink /proc/1/exe || true"});
  EXPECT_EQ(target.out.find("claude-container\n"), std::string::npos) << describe(target);
  EXPECT_EQ(target.out.find(CC_BINARY), std::string::npos) << describe(target);
  auto identity = env_->exec({"/bin/sh", "-c", "stat -L -c '%d %i' /proc/1/exe || true"});
  EXPECT_EQ(identity.out.find(std::to_string(binary.st_dev) + " " + std::to_string(binary.st_ino)), std::string::npos)
      << describe(identity);
}

INSTANTIATE_TEST_SUITE_P(Users, ProcessImageTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
