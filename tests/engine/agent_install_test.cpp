// The agent inside, without the API: the host's Claude Code installed in a home directory (the
// native installer's layout) is mounted read-only, alone, and runs as `claude`; another
// agent.command runs as written; the first-run state is in the container's home, writable by
// the container's user; and with `separate` the container's own Claude login persists across a
// restart while nothing of the host's ~/.claude is inside. As root and as an unprivileged user.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

class AgentInstallEngineTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
  }
  // A fake Claude Code as the native installer lays it out in the test user's home.
  void install_in_home() {
    fs::path versions = env_->home_dir() / ".local/share/claude/versions";
    fs::create_directories(versions);
    fs::create_directories(env_->home_dir() / ".local/bin");
    {
      std::ofstream script(versions / "9.9.9");
      script << "#!/bin/sh\necho \"home-installed agent: $*\"\necho \"config dir: $CLAUDE_CONFIG_DIR\"\n";
    }
    fs::permissions(versions / "9.9.9", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                            fs::perms::others_read | fs::perms::others_exec);
    std::ofstream(versions.parent_path().parent_path() / "secret-next-to-it") << "not for the container\n";
    fs::create_symlink("../share/claude/versions/9.9.9", env_->home_dir() / ".local/bin/claude");
    env_->chown_tree(env_->home_dir());
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(AgentInstallEngineTest, HomeInstallIsMountedAloneAndRunsAsClaude) {
  install_in_home();
  auto run = env_->cli({"claude", "--flag", "two words"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("home-installed agent: --flag two words"), std::string::npos) << describe(run);
  EXPECT_NE(run.out.find("config dir: /root/.claude"), std::string::npos) << describe(run);

  // Only the versions directory, read-only; nothing of the home around it.
  auto listing = env_->exec({"/bin/sh", "-c", "ls -A /run/claude-code/install; touch /run/claude-code/install/x"});
  EXPECT_NE(listing.exit_code, 0);
  EXPECT_EQ(listing.out, "9.9.9\n") << describe(listing);
  auto secret = env_->exec({"/bin/sh", "-c", "grep -rs 'not for the container' /run /root /tmp /workspace"});
  EXPECT_EQ(secret.out, "") << describe(secret);
  auto status = env_->cli({"status"});
  EXPECT_NE(status.out.find("/run/claude-code/install <- " + (env_->home_dir() / ".local/share/claude/versions").string()),
            std::string::npos)
      << status.out;
}

TEST_P(AgentInstallEngineTest, AnotherAgentCommandRunsAsWritten) {
  env_->write_config("volume", "none", R"("agent": {"command": "/bin/echo other-agent", "skip_permissions": true})");
  auto run = env_->cli({"claude", "x"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out, "other-agent x\n") << "Claude's bypass flag is not given to another agent";
}

TEST_P(AgentInstallEngineTest, OnboardingStateIsTheContainerUsersAndSeparateLoginPersists) {
  // The host's own Claude state must not be inside.
  fs::create_directories(env_->home_dir() / ".claude");
  std::ofstream(env_->home_dir() / ".claude/.credentials.json") << "{\"host-login-marker\": 1}\n";
  env_->chown_tree(env_->home_dir());
  ASSERT_EQ(env_->cli({"start"}).exit_code, 0);

  auto state = env_->exec({"/bin/sh", "-c",
                           "cat \"$CLAUDE_CONFIG_DIR/.claude.json\" && echo '{\"mine\": 1}' > \"$CLAUDE_CONFIG_DIR/.credentials.json\""});
  ASSERT_EQ(state.exit_code, 0) << describe(state);
  EXPECT_NE(state.out.find("\"hasCompletedOnboarding\": true"), std::string::npos) << state.out;
  EXPECT_NE(state.out.find("\"/workspace\""), std::string::npos) << state.out;
  EXPECT_EQ(state.out.find("customApiKeyResponses"), std::string::npos) << "separate has no placeholder to approve";

  ASSERT_EQ(env_->cli({"restart"}).exit_code, 0);
  auto after = env_->exec({"/bin/sh", "-c", "cat /root/.claude/.credentials.json; grep -rs host-login-marker /root /tmp /run /workspace"});
  EXPECT_EQ(after.out, "{\"mine\": 1}\n") << describe(after);
  // The onboarding merge at the second start kept the container's own file and state.
  auto merged = env_->exec({"/bin/sh", "-c", "test -w /root/.claude/.claude.json && grep -c hasCompletedOnboarding /root/.claude/.claude.json"});
  EXPECT_EQ(merged.out, "1\n") << describe(merged);
}

// With Claude Code nowhere on the machine (the system npm prefixes hidden in a mount namespace
// of the test's own), `claude` says how to install it and exits 1; status and doctor say so.
constexpr const char* kHideSystemPrefixes =
    "for d in /usr/lib/node_modules /usr/local/lib; do [ -d $d ] && /usr/bin/mount -t tmpfs none $d; done; "
    "exec \"$0\" \"$@\"";

TEST(AgentMissingTest, ClaudeSaysHowToInstallIt) {
  EngineEnv env(EngineUser::root, "volume", "none");
  CC_SKIP_UNLESS_FEATURE(env.usable(), env.feature()) << env.why_unusable();
  auto without_claude_code = [&env](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        "/usr/bin/unshare", "--mount", "--", "/bin/sh", "-c", kHideSystemPrefixes, CC_BINARY, "--project", env.project().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, env.options());
  };
  auto run = without_claude_code({"claude", "-p", "say hi"});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.err.find("npm install -g @anthropic-ai/claude-code"), std::string::npos) << describe(run);
  auto status = without_claude_code({"status"});
  EXPECT_NE(status.out.find("Claude Code is not installed on this machine"), std::string::npos) << describe(status);
  auto doctor = without_claude_code({"doctor"});
  EXPECT_NE(doctor.out.find("Claude Code: not found"), std::string::npos) << describe(doctor);
}

INSTANTIATE_TEST_SUITE_P(Users, AgentInstallEngineTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
