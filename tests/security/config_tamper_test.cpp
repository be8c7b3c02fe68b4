// A container with `bind` storage attacks the host through the project's own config (issue 7):
// it widens the policy, passes a host secret in, or plants a 1 MB value. Whether or not the
// engine keeps .claude-container read-only inside, the host must never act on such a config
// without the user's approval, and stop / status must keep working.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "support/engine_env.hpp"
#include "support/required_feature.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out.substr(0, 2000) + "\nstderr: " + r.err.substr(0, 2000);
}

class ConfigTamperTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "bind", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    config_ = (env_->project() / ".claude-container" / "config.json");
    original_ = read(config_);
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // Rewrites the config from inside the container; true when the write went through.
  bool write_from_inside(const std::string& text) {
    const std::string script = "cat > /workspace/.claude-container/config.json";
    auto r = env_->exec({"sh", "-c", script}, text);
    return r.exit_code == 0 && read(config_) != original_;
  }
  std::unique_ptr<EngineEnv> env_;
  fs::path config_;
  std::string original_;
};

TEST_P(ConfigTamperTest, AWidenedPolicyWrittenInsideIsNeverUsedWithoutApproval) {
  auto config = nlohmann::json::parse(original_);
  config["network"]["policy"] = "full";
  config["env"]["HARMLESS"] = "${CC_TEST_HOST_SECRET}";
  if (!write_from_inside(config.dump(2))) {
    std::cerr << "note: the container could not change its config (read-only inside): the attack failed earlier\n";
    return;
  }
  auto options = env_->options();
  options.env["CC_TEST_HOST_SECRET"] = "host-secret-value";
  auto exec = run_cli({"--project", env_->project().string(), "exec", "--", "env"}, options);
  EXPECT_EQ(exec.exit_code, 2) << describe(exec);
  EXPECT_EQ(exec.out.find("host-secret-value"), std::string::npos) << "the host secret reached the container";
  EXPECT_NE(exec.err.find("`claude-container trust`"), std::string::npos) << describe(exec);
  EXPECT_NE(exec.err.find("network: none → full"), std::string::npos) << describe(exec);
  EXPECT_NE(exec.err.find("env HARMLESS takes the host's CC_TEST_HOST_SECRET"), std::string::npos) << describe(exec);
  auto restart = env_->cli({"restart"});
  EXPECT_EQ(restart.exit_code, 2) << describe(restart);
  // status shows the approved policy, and stop still works.
  auto status = env_->cli({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  EXPECT_EQ(nlohmann::json::parse(status.out)["network"]["policy"], "none");
  EXPECT_EQ(env_->cli({"stop"}).exit_code, 0);
}

TEST_P(ConfigTamperTest, AMegabyteValueWrittenInsideCannotStopStopOrDestroy) {
  auto config = nlohmann::json::parse(original_);
  config["env"]["FOO"] = std::string(1024 * 1024, 'a');
  if (!write_from_inside(config.dump())) {
    std::cerr << "note: the container could not change its config (read-only inside): the attack failed earlier\n";
    return;
  }
  auto status = env_->cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << describe(status);
  EXPECT_NE(status.err.find("env.FOO: found a string of 1048576 bytes"), std::string::npos) << describe(status);
  auto stop = env_->cli({"stop"});
  EXPECT_EQ(stop.exit_code, 0) << describe(stop);
  auto destroy = env_->cli({"destroy", "--yes"});
  EXPECT_EQ(destroy.exit_code, 0) << describe(destroy);
  EXPECT_FALSE(fs::exists(env_->container_data())) << "destroy left the container's data";
}

INSTANTIATE_TEST_SUITE_P(Users, ConfigTamperTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
