#pragma once
// A hand-made hybrid workspace in a temporary directory (the project is the overlay's lower
// layer, the change layer its upper one), for tests that drive src/workspace without a container.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/temp_dir.hpp"
#include "workspace/workspace_layout.hpp"

namespace cc::test {

inline void write_with_mode(const std::filesystem::path& p, const std::string& text, mode_t mode = 0644) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::trunc | std::ios::binary) << text;
  ::chmod(p.c_str(), mode);
}

inline std::string read_whole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class HybridTreeTest : public ::testing::Test {
 protected:
  explicit HybridTreeTest(const char* prefix = "cc-hybrid") : dir_(prefix) {}
  void SetUp() override {
    layout_.kind = workspace::StorageKind::hybrid;
    layout_.project = dir_ / "lower";
    layout_.changes = dir_ / "upper";
    layout_.work = dir_ / "work";
    layout_.journal = dir_ / "state" / "apply-journal";
    std::filesystem::create_directories(layout_.project);
    std::filesystem::create_directories(layout_.changes);
    std::filesystem::create_directories(layout_.work / "work");
  }
  std::filesystem::path lower() const { return layout_.project; }
  std::filesystem::path upper() const { return layout_.changes; }

  TempDir dir_;
  workspace::WorkspaceLayout layout_;
};

}  // namespace cc::test
