// Compares the files `init` writes, for each mode and base image, with the golden copies in
// tests/data/golden/<case>/. After an intended change to a template, regenerate them with
//   CC_UPDATE_GOLDEN=1 ./build/tests/unit_tests --gtest_filter='*ProjectGolden*'
// and review the diff (git diff tests/data/golden) before committing it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "project/container_layout.hpp"
#include "project/project_files.hpp"
#include "project_test_support.hpp"
#include "support/temp_dir.hpp"
#include "util/file_io.hpp"

namespace cc::project {
namespace {

namespace fs = std::filesystem;

// A file named .gitignore would act as one inside the repository, so its golden copy has
// another name.
std::string golden_name(const std::string& path) { return path == ".gitignore" ? "gitignore.golden" : path; }

std::vector<std::string> golden_names(std::vector<std::string> paths) {
  for (auto& path : paths) path = golden_name(path);
  std::sort(paths.begin(), paths.end());
  return paths;
}

bool updating_golden() {
  const char* value = std::getenv("CC_UPDATE_GOLDEN");
  return value && std::string(value) == "1";
}

class ProjectGolden : public ::testing::TestWithParam<test::NamedConfig> {};

TEST_P(ProjectGolden, GeneratedFilesMatchGoldenCopies) {
  const auto& [case_name, config] = GetParam();
  test::TempDir project;
  write_project_files(project.path(), config, {.force = false, .now = test::fixed_time()});
  // The manifest holds the tool version and is checked in ProjectManifest tests instead.
  fs::remove(project.path() / kManifestFile);

  const fs::path golden = fs::path(CC_TEST_DATA_DIR) / "golden" / case_name;
  const auto generated = test::files_under(project.path());
  if (updating_golden()) {
    fs::remove_all(golden);
    for (const auto& file : generated) {
      fs::create_directories((golden / golden_name(file)).parent_path());
      fs::copy_file(project.path() / file, golden / golden_name(file));
    }
    GTEST_SKIP() << "rewrote " << golden;
  }
  ASSERT_EQ(golden_names(generated), test::files_under(golden)) << "the set of generated files differs from " << golden;
  for (const auto& file : generated)
    EXPECT_EQ(read_file(project.path() / file), read_file(golden / golden_name(file)))
        << file << " differs from its golden copy in " << golden;
}

// The files a person reads and commits hold no time (they would change on every init); only the
// manifest records one. Written with a fixed clock, so the check can see the time if a template
// ever prints it: the manifest proves the clock reached the writer.
TEST_P(ProjectGolden, OutputHasNoPlaceholdersOrTimes) {
  const auto& config = GetParam().config;
  test::TempDir project;
  write_project_files(project.path(), config, {.force = false, .now = test::fixed_time()});
  const std::string date = "2026-01-02", time_of_day = "03:04:05", epoch = "1767323045";
  ASSERT_NE(read_file(project.path() / kManifestFile).find(date), std::string::npos)
      << "the manifest no longer records the time it was written with";
  for (const auto& file : test::files_under(project.path())) {
    if (file == kManifestFile) continue;
    const std::string content = read_file(project.path() / file);
    EXPECT_EQ(content.find("{{"), std::string::npos) << file;
    EXPECT_EQ(content.find("TODO"), std::string::npos) << file;
    EXPECT_EQ(content.find(date), std::string::npos) << file;
    EXPECT_EQ(content.find(time_of_day), std::string::npos) << file;
    EXPECT_EQ(content.find(epoch), std::string::npos) << file;
  }
}

INSTANTIATE_TEST_SUITE_P(ProjectEachModeAndBase, ProjectGolden, ::testing::ValuesIn(test::golden_configs()),
                         [](const auto& info) {
                           std::string name = info.param.case_name;
                           for (auto& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace cc::project
