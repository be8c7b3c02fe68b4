// Writes and deletes in a project never follow a link the repository shipped (issue 7):
// scripts -> /host/dir, .gitignore -> ~/.ssh/id_x, and a manifest entry through link -> /root
// are refused with one sentence, and nothing is written or removed.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_test_env.hpp"
#include "support/required_feature.hpp"
#include "util/file_io.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) names.push_back(fs::relative(entry.path(), dir));
  std::sort(names.begin(), names.end());
  return names;
}

class ProjectWrites : public ::testing::TestWithParam<TestUser> {
 protected:
  CliTestEnv env;
  void SetUp() override {
    std::string why;
    CC_SKIP_UNLESS_FEATURE(run_as(env, GetParam(), &why),
                           GetParam() == TestUser::root ? "root-engine" : "rootless-engine")
        << why;
  }
};

TEST_P(ProjectWrites, ASymlinkedScriptsDirectoryIsRefusedAndNothingIsWritten) {
  const fs::path host_dir = env.root() / "host-bin";
  fs::create_directories(host_dir);
  fs::create_directory_symlink(host_dir, env.project() / "scripts");
  env.give_tree();
  const auto before = listing(env.project());

  auto init = env.run({"init", "--mode", "playground"});
  EXPECT_EQ(init.exit_code, 2) << init.err;
  EXPECT_NE(init.err.find("init refused: scripts in " + env.project().string() + " is a symbolic link -> " +
                          host_dir.string()),
            std::string::npos)
      << init.err;
  EXPECT_NE(init.err.find("rm scripts"), std::string::npos) << init.err;
  EXPECT_TRUE(fs::is_empty(host_dir)) << "init wrote into the host directory";
  EXPECT_EQ(listing(env.project()), before) << "a refused init wrote something";
}

TEST_P(ProjectWrites, ASymlinkedGitignoreIsRefusedAndTheKeyIsNeverCopied) {
  const fs::path key = env.home() / ".ssh" / "id_x";
  fs::create_directories(key.parent_path());
  std::ofstream(key) << "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n";
  fs::create_symlink(key, env.project() / ".gitignore");
  env.give_tree();
  const auto before = listing(env.project());

  auto init = env.run({"init", "--mode", "playground"});
  EXPECT_EQ(init.exit_code, 2) << init.err;
  EXPECT_NE(init.err.find(".gitignore in " + env.project().string() + " is a symbolic link -> " + key.string()),
            std::string::npos)
      << init.err;
  EXPECT_TRUE(fs::is_symlink(env.project() / ".gitignore")) << "replaced by a regular file (with the key in it?)";
  EXPECT_EQ(cc::read_file(key), "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n");
  EXPECT_EQ(listing(env.project()), before) << "a refused init wrote something";
}

class TamperedManifest : public ::testing::TestWithParam<TestUser> {
 protected:
  CliTestEnv env;
  fs::path victim;
  void SetUp() override {
    std::string why;
    CC_SKIP_UNLESS_FEATURE(run_as(env, GetParam(), &why),
                           GetParam() == TestUser::root ? "root-engine" : "rootless-engine")
        << why;
    ASSERT_EQ(env.run({"init", "--mode", "playground"}).exit_code, 0);
    // A directory outside the project holding a file the attacker knows (and so its sha256).
    victim = env.root() / "victim";
    fs::create_directories(victim);
    std::ofstream(victim / "known.txt") << "known content\n";
    fs::create_directory_symlink(victim, env.project() / ".claude-container/link");
    auto manifest = nlohmann::json::parse(env.read(".claude-container/manifest.json"));
    manifest["files"].push_back({{"path", ".claude-container/link/known.txt"},
                                 {"sha256", cc::sha256_hex("known content\n")},
                                 {"mode", "0644"},
                                 {"created_at", "2026-01-01T00:00:00Z"},
                                 {"updated_at", "2026-01-01T00:00:00Z"}});
    std::ofstream(env.project() / ".claude-container/manifest.json") << manifest.dump(2);
    env.give_tree();
  }
};

TEST_P(TamperedManifest, DestroyPurgeRefusesBeforeDeletingAnything) {
  const auto before = listing(env.project());
  auto purge = env.run({"destroy", "--yes", "--purge"});
  EXPECT_EQ(purge.exit_code, 2) << purge.err;
  EXPECT_NE(purge.err.find("destroy --purge refused: .claude-container/link in " + env.project().string() + " is a symbolic link"),
            std::string::npos)
      << purge.err;
  EXPECT_TRUE(fs::exists(victim / "known.txt")) << "a file outside the project was deleted";
  EXPECT_EQ(listing(env.project()), before) << "the refused purge removed something";
}

TEST_P(TamperedManifest, InitRefusesBeforeWritingAnything) {
  const std::string manifest_before = env.read(".claude-container/manifest.json");
  auto init = env.run({"init", "--mode", "custom", "--yes", "--network", "full"});
  EXPECT_EQ(init.exit_code, 2) << init.err;
  EXPECT_NE(init.err.find("init refused: .claude-container/link in"), std::string::npos) << init.err;
  EXPECT_TRUE(fs::exists(victim / "known.txt"));
  EXPECT_EQ(env.config_json()["mode"], "playground") << "config.json was rewritten by a refused init";
  EXPECT_EQ(env.read(".claude-container/manifest.json"), manifest_before);
}

TEST_P(ProjectWrites, PurgeStillRemovesWhatInitWrote) {
  ASSERT_EQ(env.run({"init", "--mode", "playground"}).exit_code, 0);
  auto purge = env.run({"destroy", "--yes", "--purge"});
  EXPECT_EQ(purge.exit_code, 0) << purge.err;
  EXPECT_FALSE(env.exists("scripts/container"));
  EXPECT_FALSE(env.exists(".claude-container"));
  EXPECT_FALSE(env.exists(".gitignore"));
}

INSTANTIATE_TEST_SUITE_P(Users, ProjectWrites, ::testing::Values(TestUser::root, TestUser::unprivileged), user_name);
INSTANTIATE_TEST_SUITE_P(Users, TamperedManifest, ::testing::Values(TestUser::root, TestUser::unprivileged), user_name);

}  // namespace
}  // namespace cc::test
