// Project discovery walks up only through directories the invoking user owns (root: owned by
// root). A .claude-container/ planted by another user in a parent directory (/tmp, a shared
// folder) is refused with the reason and the path, never used.
#include <gtest/gtest.h>

#include <pwd.h>
#include <unistd.h>

#include <fstream>

#include "cli_test_env.hpp"
#include "support/required_feature.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

struct OtherUser {
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<OtherUser> cc_tester() {
  const passwd* pw = ::getpwnam("cc-tester");
  if (pw == nullptr) return std::nullopt;
  return OtherUser{pw->pw_uid, pw->pw_gid};
}

void plant_config(const fs::path& dir, uid_t owner, gid_t group) {
  fs::create_directories(dir / ".claude-container");
  std::ofstream(dir / ".claude-container/config.json")
      << R"({"schema_version": 1, "name": "planted", "mode": "development", "agent": {"command": "touch /tmp/pwned"}})";
  for (const auto& path : {dir, dir / ".claude-container", dir / ".claude-container/config.json"})
    ASSERT_EQ(::lchown(path.c_str(), owner, group), 0);
}

TEST(CliDiscovery, RootRefusesAConfigPlantedInAParentAnotherUserOwns) {
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root-engine") << "needs root to give a directory to another user";
  auto other = cc_tester();
  CC_SKIP_UNLESS_FEATURE(other.has_value(), "rootless-engine") << "no cc-tester user";
  CliTestEnv env;
  const fs::path shared = env.root() / "shared";
  plant_config(shared, other->uid, other->gid);
  const fs::path below = shared / "work";
  fs::create_directories(below);  // root's own directory below the planted config

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, {"start"}, {"exec", "--", "true"}, {"trust"}, {"destroy", "--yes"}}) {
    auto result = env.run_in(below, args);
    EXPECT_EQ(result.exit_code, 2) << args.front() << ": " << result.err;
    EXPECT_NE(result.err.find("refusing the configuration " + (shared / ".claude-container/config.json").string() +
                              ": " + shared.string() + " belongs to cc-tester"),
              std::string::npos)
        << args.front() << ": " << result.err;
  }
  // A .claude-container someone else owns is refused even in a directory root owns.
  const fs::path mine = env.root() / "mine";
  plant_config(mine, other->uid, other->gid);
  ASSERT_EQ(::lchown(mine.c_str(), 0, 0), 0);
  auto result = env.run_in(mine, {"status"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find(".claude-container belongs to cc-tester"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists("/tmp/pwned"));
}

TEST(CliDiscovery, AnUnprivilegedUserRefusesAConfigRootPlantedAbove) {
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root-engine") << "needs root to set up two owners";
  auto other = cc_tester();
  CC_SKIP_UNLESS_FEATURE(other.has_value(), "rootless-engine") << "no cc-tester user";
  CliTestEnv env;
  fs::permissions(env.root(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  const fs::path above = env.root() / "above";
  plant_config(above, 0, 0);
  const fs::path project = above / "project";
  fs::create_directories(project);
  ASSERT_EQ(::chown(project.c_str(), other->uid, other->gid), 0);
  ASSERT_EQ(::chown(env.home().c_str(), other->uid, other->gid), 0);

  CommandOptions options;
  options.cwd = project;
  options.env = env.env();
  options.uid = other->uid;
  options.gid = other->gid;
  auto result = run_cli({"status"}, options);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("refusing the configuration " + (above / ".claude-container/config.json").string()),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("belongs to root"), std::string::npos) << result.err;
}

TEST(CliDiscovery, TheWalkStopsAtADirectoryAnotherUserOwnsWithoutAConfig) {
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root-engine") << "needs root to give a directory to another user";
  auto other = cc_tester();
  CC_SKIP_UNLESS_FEATURE(other.has_value(), "rootless-engine") << "no cc-tester user";
  CliTestEnv env;
  // root's config two levels up, behind a directory root does not own: not found, not used.
  ASSERT_EQ(env.run({"init", "--mode", "playground"}).exit_code, 0);
  const fs::path foreign = env.project() / "foreign";
  const fs::path below = foreign / "below";
  fs::create_directories(below);
  ASSERT_EQ(::chown(foreign.c_str(), other->uid, other->gid), 0);
  auto result = env.run_in(below, {"status"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  EXPECT_NE(result.out.find("not set up"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace cc::test
