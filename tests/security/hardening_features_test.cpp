// The kernel features CI must exercise (CC_REQUIRED_FEATURES: seccomp, landlock, cgroup-v1)
// really apply inside a running container. Where the machine lacks one, the test skips naming
// it, which fails the run on a machine that is required to have it.
#include <gtest/gtest.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <sstream>

#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

class HardeningFeatures : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(HardeningFeatures, SeccompFilterIsInstalled) {
  CC_SKIP_UNLESS_FEATURE(::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0, "seccomp") << "this kernel has no seccomp";
  auto r = env_->exec({"grep", "^Seccomp:", "/proc/self/status"});
  EXPECT_EQ(r.out, "Seccomp:\t2\n") << describe(r);
  // A refused call fails with EPERM, not ENOSYS: the filter, not the kernel, said no.
  auto unshare = env_->exec({"unshare", "--user", "true"});
  EXPECT_NE(unshare.exit_code, 0);
  EXPECT_NE(unshare.err.find("Operation not permitted"), std::string::npos) << describe(unshare);
}

TEST_P(HardeningFeatures, LandlockConfinesWritesToTheWritablePlaces) {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  CC_SKIP_UNLESS_FEATURE(abi > 0, "landlock") << "this kernel has no Landlock (or it is not enabled in lsm=)";
  // /var is a writable tmpfs in the container, but Landlock allows writes only below /var/tmp:
  // the refusal is EACCES from Landlock, not EROFS from the mount.
  auto refused = env_->exec({"touch", "/var/landlock-probe"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("Permission denied"), std::string::npos) << describe(refused);
  auto allowed = env_->exec({"touch", "/var/tmp/landlock-probe"});
  EXPECT_EQ(allowed.exit_code, 0) << describe(allowed);
}

// cgroup v1 limits are set as root only (an unprivileged user gets no v1 hierarchy), so this
// one runs for root alone.
class CgroupV1Limits : public HardeningFeatures {};

TEST_P(CgroupV1Limits, MemoryAndPidsLimitsAreEnforced) {
  bool v1_writable = !fs::exists("/sys/fs/cgroup/cgroup.controllers") && ::access("/sys/fs/cgroup/memory", W_OK) == 0 &&
                     ::access("/sys/fs/cgroup/pids", W_OK) == 0;
  CC_SKIP_UNLESS_FEATURE(v1_writable, "cgroup-v1") << "no writable cgroup v1 memory and pids hierarchies here";
  auto status = nlohmann::json::parse(env_->cli({"--json", "status"}).out);
  ASSERT_TRUE(status["pid"].is_number()) << status.dump(2);
  std::string pid = std::to_string(status["pid"].get<long>());
  // "<id>:<controllers>:<path>" per hierarchy the container's pid 1 is in.
  std::map<std::string, std::string> paths;
  std::istringstream in(read_text("/proc/" + pid + "/cgroup"));
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    std::istringstream controllers(line.substr(first + 1, second - first - 1));
    for (std::string c; std::getline(controllers, c, ',');) paths[c] = line.substr(second + 1);
  }
  ASSERT_TRUE(paths.count("memory") && paths.count("pids")) << read_text("/proc/" + pid + "/cgroup");
  EXPECT_NE(paths["memory"], "/") << "pid 1 stayed in the root memory cgroup";
  // The EngineEnv config asks for 512m and 512 pids.
  EXPECT_EQ(read_text("/sys/fs/cgroup/memory" + paths["memory"] + "/memory.limit_in_bytes"), "536870912");
  EXPECT_EQ(read_text("/sys/fs/cgroup/pids" + paths["pids"] + "/pids.max"), "512");
}

INSTANTIATE_TEST_SUITE_P(Users, HardeningFeatures, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });
INSTANTIATE_TEST_SUITE_P(Root, CgroupV1Limits, ::testing::Values(EngineUser::root),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
