// config.json on disk: loading, saving and finding the project root.
#include <gtest/gtest.h>

#include "config/config_io.hpp"
#include "project_test_support.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::config {
namespace {

namespace fs = std::filesystem;

TEST(ConfigFile, MissingConfigIsNotSetUp) {
  test::TempDir dir;
  try {
    load_config(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::not_set_up);
    EXPECT_NE(std::string(e.what()).find("run `claude-container init`"), std::string::npos) << e.what();
  }
}

TEST(ConfigFile, SaveThenLoadGivesTheSameSettings) {
  test::TempDir dir;
  Config c = preset(Mode::development, "saved");
  c.network.allow = {"example.com"};
  save_config(dir.path(), c);
  EXPECT_EQ(serialize_config(load_config(dir.path())), serialize_config(c));
  EXPECT_EQ(test::files_under(dir.path()), std::vector<std::string>{".claude-container/config.json"});
}

TEST(ConfigFile, ErrorsNameTheFileOnDisk) {
  test::TempDir dir;
  fs::create_directories(dir / kConfigDir);
  write_file_atomic(dir / kConfigFile, R"({"schema_version": 1, "name": "x", "mode": "custom", "storage": {"type": "nfs"}})");
  try {
    load_config(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
    EXPECT_EQ(std::string(e.what()), (dir / kConfigFile).string() +
                                         ": storage.type: found \"nfs\"; allowed: volume | bind | hybrid");
  }
}

TEST(ConfigFile, ProjectRootIsTheNearestAncestorWithAConfig) {
  test::TempDir dir;
  const fs::path outer = dir / "outer";
  const fs::path inner = outer / "sub" / "inner";
  fs::create_directories(inner / "deeper");
  save_config(outer, preset(Mode::playground, "outer"));
  EXPECT_EQ(find_project_root(inner / "deeper"), outer);
  EXPECT_EQ(find_project_root(outer), outer);
  save_config(inner, preset(Mode::playground, "inner"));
  EXPECT_EQ(find_project_root(inner / "deeper"), inner);
  EXPECT_EQ(find_project_root(dir.path()), std::nullopt);
  // A directory named like the config file is not a config.
  fs::create_directories(dir / "fake" / ".claude-container" / "config.json");
  EXPECT_EQ(find_project_root(dir / "fake"), std::nullopt);
}

}  // namespace
}  // namespace cc::config
