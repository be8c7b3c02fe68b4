// Planning the mount of a Claude Code installed outside the system directories: its directory
// alone, read-only, opened with the host's ids, `claude` pointing into it; and the note when a
// subordinate id (the root engine) could not run it.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "engine/native/agent_mount.hpp"
#include "engine/native/environment.hpp"
#include "support/temp_dir.hpp"

namespace cc::engine::native {
namespace {

namespace fs = std::filesystem;

integrations::AgentInstall fake_install(const fs::path& versions, fs::perms perms) {
  fs::create_directories(versions);
  std::ofstream(versions / "2.1.197") << "#!/bin/sh\n";
  fs::permissions(versions / "2.1.197", perms);
  return {versions / "2.1.197", versions, "2.1.197", "test"};
}

TEST(AgentMount, HomeInstallGetsItsDirectoryAloneAndAClaudeOnThePath) {
  test::TempDir tmp("cc-agent-mount");
  auto install = fake_install(tmp / "versions", fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(tmp.path(), fs::perms::others_exec, fs::perm_options::add);
  fs::permissions(tmp / "versions", fs::perms::others_exec, fs::perm_options::add);
  RootfsPlan plan;
  EXPECT_TRUE(plan_agent_mount(plan, install, /*subordinate_ids=*/true).empty());
  int binds = 0;
  bool link = false;
  for (const auto& step : plan.steps) {
    if (step.kind == MountStep::Kind::bind_ro) {
      ++binds;
      EXPECT_EQ(step.source, (tmp / "versions").string());
      EXPECT_EQ(step.target, std::string(".") + kAgentInstallDir);
      EXPECT_TRUE(step.host_ids);
    }
    if (step.kind == MountStep::Kind::symlink) {
      link = true;
      EXPECT_EQ(step.target, std::string(".") + kAgentBinDir + "/claude");
      EXPECT_EQ(step.source, std::string(kAgentInstallDir) + "/2.1.197");
    }
  }
  EXPECT_EQ(binds, 1);
  EXPECT_TRUE(link);
  EXPECT_EQ(container_path_dirs().front(), kAgentBinDir);
}

TEST(AgentMount, RootEngineSaysWhenASubordinateIdCannotRunIt) {
  test::TempDir tmp("cc-agent-mount");
  auto install = fake_install(tmp / "versions", fs::perms::owner_all);
  RootfsPlan plan;
  auto notes = plan_agent_mount(plan, install, /*subordinate_ids=*/true);
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_NE(notes[0].find("chmod -R o+rX " + (tmp / "versions").string()), std::string::npos) << notes[0];
  EXPECT_TRUE(plan_agent_mount(plan, install, /*subordinate_ids=*/false).empty()) << "rootless: the user's own files";
}

}  // namespace
}  // namespace cc::engine::native
