// Paths a config names stay inside the project unless the user approved the config naming
// them; inside the project no link is followed, and /proc, /sys, /dev are never read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config_paths.hpp"
#include "config/container_env.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

namespace cc::config {
namespace {

namespace fs = std::filesystem;

std::string refusal(const fs::path& project, const std::string& value) {
  try {
    read_config_path(project, "env_file", value, 1 << 20);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage) << e.what();
    return e.what();
  }
  ADD_FAILURE() << value << " was read";
  return "";
}

TEST(ConfigPaths, InsideTheProjectIsReadBeneathItWithoutLinks) {
  test::TempDir dir("cc-paths");
  const fs::path project = dir / "p";
  fs::create_directories(project / "sub");
  std::ofstream(project / ".env") << "A=1\n";
  std::ofstream(dir / "secret") << "KEY=host-secret\n";
  EXPECT_EQ(read_config_path(project, "env_file", ".env", 100).value(), "A=1\n");
  EXPECT_EQ(read_config_path(project, "env_file", "./sub/../.env", 100).value(), "A=1\n");
  EXPECT_FALSE(read_config_path(project, "env_file", "missing.env", 100).has_value());

  // A link the repository ships (or a container writes) is never followed.
  fs::create_symlink(dir / "secret", project / "linked.env");
  EXPECT_NE(refusal(project, "linked.env").find("symbolic link"), std::string::npos);
  fs::create_directory_symlink(dir.path(), project / "sub" / "up");
  EXPECT_NE(refusal(project, "sub/up/secret").find("symbolic link"), std::string::npos);
  // Over the size limit.
  EXPECT_THROW(read_config_path(project, "env_file", ".env", 2), Error);
}

TEST(ConfigPaths, KernelFilesAreRefusedHoweverTheyAreSpelled) {
  test::TempDir dir("cc-paths");
  for (const char* value : {"/proc/self/environ", "/proc/1/environ", "/sys/kernel/notes", "/dev/zero",
                                   "/./proc/self/environ", "/tmp/../proc/self/environ"}) {
    EXPECT_NE(refusal(dir.path(), value).find("/proc, /sys and /dev are never read"), std::string::npos) << value;
  }
  const int depth = static_cast<int>(std::distance(dir.path().begin(), dir.path().end()));
  std::string up;
  for (int i = 0; i < depth + 2; ++i) up += "../";
  EXPECT_NE(refusal(dir.path(), up + "proc/self/environ").find("never read"), std::string::npos);
  // A link outside the project that leads into /proc: found by the file system type.
  fs::create_symlink("/proc/self", dir / "self");
  EXPECT_NE(refusal(dir / "p", (dir / "self" / "environ").string()).find("never read"), std::string::npos);
}

TEST(ConfigPaths, OutsideThePathIsLocatedAsOutside) {
  EXPECT_TRUE(locate_config_path("/work/p", "env_file", ".env").inside);
  EXPECT_FALSE(locate_config_path("/work/p", "env_file", "../../etc/hosts").inside);
  EXPECT_EQ(locate_config_path("/work/p", "env_file", "../../etc/hosts").absolute, "/etc/hosts");
  EXPECT_FALSE(locate_config_path("/work/p", "env_file", "/etc/hosts").inside);
  EXPECT_TRUE(locate_config_path("/work/p", "env_file", "/work/p/x.env").inside);
}

TEST(ConfigPaths, TheEnvFileThroughALinkNeverReachesTheContainerEnvironment) {
  test::TempDir dir("cc-paths");
  const fs::path project = dir / "p";
  fs::create_directories(project);
  std::ofstream(dir / "id_key") << "PRIVATE=key\n";
  fs::create_symlink(dir / "id_key", project / ".env");
  Config c = preset(Mode::playground, "demo");
  c.env_file = ".env";
  try {
    container_env(c, project, host_environment());
    FAIL() << "env_file was read through a link";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("env_file \".env\" is refused"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cc::config
