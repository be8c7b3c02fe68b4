// Issue 7 attacks on the CLI side, each from a committed (or container-written) project file.
// Every test checks that the attack failed and that it failed for the stated reason.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_env.hpp"

namespace cc::test {
namespace {

class HostileConfig : public ::testing::Test {
 protected:
  CliTestEnv env;
  void SetUp() override {
    auto init = env.run({"init", "--mode", "playground"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
  void write_config(const nlohmann::json& config) const {
    std::ofstream(env.project() / ".claude-container/config.json") << config.dump(2);
  }
};

TEST_F(HostileConfig, AMegabyteStringValueNeverCrashesStopStatusOrDestroy) {
  auto config = env.config_json();
  config["env"]["FOO"] = std::string(1024 * 1024, 'a');
  write_config(config);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, {"stop"}, {"destroy", "--yes"}, {"start"}, {"exec", "--", "true"}}) {
    auto result = env.run(args);
    EXPECT_LT(result.exit_code, 128) << args.front() << " was killed by a signal: " << result.err;
    EXPECT_NE(result.exit_code, 0) << args.front();
    EXPECT_LT(result.err.size(), 2000u) << args.front() << ": the value must not be echoed";
  }
  auto status = env.run({"status"});
  EXPECT_EQ(status.exit_code, 2) << status.err;
  EXPECT_NE(status.err.find("env.FOO: found a string of 1048576 bytes; allowed: at most 32768 bytes"), std::string::npos)
      << status.err;
}

}  // namespace
}  // namespace cc::test
