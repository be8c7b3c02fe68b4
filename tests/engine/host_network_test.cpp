// `full` without pasta would share the host's network namespace (issue 9): refused unless the
// config asks for the host network by name (`network.host_network: true`), and then `status`
// says so. pasta is hidden from the CLI by a bind mount of /dev/null over it in a private
// mount namespace, so this needs root (the CLI itself then runs as the parameter's user).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/engine_env.hpp"
#include "support/required_feature.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

class HostNetworkTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root-engine") << "hiding pasta in a private mount namespace needs root";
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "full");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
  }
  // The CLI with every pasta binary hidden.
  CommandResult cli_without_pasta(const std::vector<std::string>& args) {
    std::string hide;
    for (const char* dir : {"/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin"}) {
      if (fs::exists(std::string(dir) + "/pasta")) hide += std::string("/usr/bin/mount --bind /dev/null ") + dir + "/pasta && ";
    }
    std::vector<std::string> argv = {"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", hide + "exec \"$@\"", "sh"};
    if (GetParam() == EngineUser::unprivileged) {
      argv.insert(argv.end(), {"/usr/bin/setpriv", "--reuid=" + std::to_string(env_->uid()), "--regid=" + std::to_string(env_->gid()),
                               "--clear-groups"});
    }
    argv.insert(argv.end(), {CC_BINARY, "--project", env_->project().string()});
    argv.insert(argv.end(), args.begin(), args.end());
    auto options = env_->options();
    options.uid.reset();
    options.gid.reset();
    return run_command(argv, options);
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(HostNetworkTest, FullWithoutPastaIsRefusedUnlessTheHostNetworkIsAskedFor) {
  auto refused = cli_without_pasta({"start"});
  EXPECT_EQ(refused.exit_code, 2) << describe(refused);
  EXPECT_NE(refused.err.find("pasta (passt) is not installed"), std::string::npos) << describe(refused);
  EXPECT_NE(refused.err.find("\"host_network\": true"), std::string::npos) << describe(refused);
  EXPECT_FALSE(fs::exists(env_->container_data())) << "a refused start created the container";

  // Asked for by name: it starts, and status says which network it got.
  std::string config = (env_->project() / ".claude-container" / "config.json").string();
  auto r = run_command({"/usr/bin/sed", "-i", "s/\"deny\": \\[\\]}/\"deny\": [], \"host_network\": true}/", config});
  ASSERT_EQ(r.exit_code, 0);
  env_->approve_config();
  auto started = cli_without_pasta({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);
  auto status = env_->cli({"status"});
  EXPECT_NE(status.out.find("host network"), std::string::npos) << describe(status);
  EXPECT_NE(status.out.find("abstract unix sockets"), std::string::npos) << describe(status);
  EXPECT_EQ(env_->cli({"stop"}).exit_code, 0);
}

// The gateway's port on the host's loopback would add the key for every local process.
TEST_P(HostNetworkTest, TheCredentialGatewayIsRefusedOnTheHostNetwork) {
  env_->write_config("volume", "full", R"("credentials": {"api": "gateway"})");
  std::string config = (env_->project() / ".claude-container" / "config.json").string();
  ASSERT_EQ(run_command({"/usr/bin/sed", "-i", "s/\"deny\": \\[\\]}/\"deny\": [], \"host_network\": true}/", config}).exit_code, 0);
  env_->approve_config();
  env_->set_env("ANTHROPIC_API_KEY", "sk-ant-api03-" + std::string(95, 'h'));
  auto refused = cli_without_pasta({"start"});
  EXPECT_EQ(refused.exit_code, 2) << describe(refused);
  EXPECT_NE(refused.err.find("credentials.api \"gateway\""), std::string::npos) << describe(refused);
  EXPECT_NE(refused.err.find("host's loopback"), std::string::npos) << describe(refused);
  EXPECT_FALSE(fs::exists(env_->container_data())) << "a refused start created the container";
}

TEST_P(HostNetworkTest, HostNetworkIsOnlyForTheFullPolicy) {
  env_->write_config("volume", "none", "");
  std::string config = (env_->project() / ".claude-container" / "config.json").string();
  ASSERT_EQ(run_command({"/usr/bin/sed", "-i", "s/\"deny\": \\[\\]}/\"deny\": [], \"host_network\": true}/", config}).exit_code, 0);
  auto r = env_->cli({"trust"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("network.host_network"), std::string::npos) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Users, HostNetworkTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
