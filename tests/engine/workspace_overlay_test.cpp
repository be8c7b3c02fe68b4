// The hybrid workspace's change layer read back from hand-made overlay layers: both whiteout
// forms (0/0 character device, xattr-marked file), opaque directories, copy-ups without a
// change, and apply/discard.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <filesystem>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "support/temp_dir.hpp"
#include "workspace/overlay_changes.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;
using cc::workspace::Change;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::trunc | std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string render(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& c : changes) {
    out += c.kind == Change::Kind::added ? "A " : c.kind == Change::Kind::modified ? "M " : "D ";
    out += c.path + "\n";
  }
  return out;
}

class OverlayChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    layers_ = {dir_ / "lower", dir_ / "upper", dir_ / "work"};
    write(layers_.lower / "same.txt", "same\n");
    write(layers_.lower / "edit.txt", "old\n");
    write(layers_.lower / "gone-dev.txt", "x\n");
    write(layers_.lower / "gone-xattr.txt", "x\n");
    write(layers_.lower / "opaque" / "hidden.txt", "x\n");
    write(layers_.lower / "opaque" / "kept.txt", "old\n");
    fs::create_directories(layers_.upper);
    fs::create_directories(layers_.work / "work");
    // A copy-up without a change (touch, or open for writing) is not a change.
    write(layers_.upper / "same.txt", "same\n");
    write(layers_.upper / "edit.txt", "new\n");
    write(layers_.upper / "sub" / "added.txt", "added\n");
    ASSERT_EQ(::mknod((layers_.upper / "gone-dev.txt").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0) << std::strerror(errno);
    write(layers_.upper / "gone-xattr.txt", "");
    ASSERT_EQ(::setxattr((layers_.upper / "gone-xattr.txt").c_str(), "user.overlay.whiteout", "y", 1, 0), 0)
        << std::strerror(errno);
    write(layers_.upper / "opaque" / "kept.txt", "new\n");
    ASSERT_EQ(::setxattr((layers_.upper / "opaque").c_str(), "user.overlay.opaque", "y", 1, 0), 0);
  }
  TempDir dir_{"cc-overlay"};
  cc::workspace::OverlayLayers layers_;
};

TEST_F(OverlayChangesTest, ListsAddedModifiedAndDeleted) {
  EXPECT_EQ(render(cc::workspace::overlay_changes(layers_)),
            "M edit.txt\n"
            "D gone-dev.txt\n"
            "D gone-xattr.txt\n"
            "D opaque/hidden.txt\n"
            "M opaque/kept.txt\n"
            "A sub/added.txt\n");
}

TEST_F(OverlayChangesTest, DiffIsUnified) {
  std::string diff = cc::workspace::overlay_diff(layers_);
  EXPECT_NE(diff.find("--- a/edit.txt\n+++ b/edit.txt\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("-old\n+new\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("+++ b/sub/added.txt"), std::string::npos) << diff;
  EXPECT_NE(diff.find("--- a/gone-dev.txt\n+++ /dev/null"), std::string::npos) << diff;
}

TEST_F(OverlayChangesTest, ApplyWritesIntoTheLowerLayerThenNothingIsLeft) {
  cc::workspace::overlay_apply(layers_);
  EXPECT_EQ(read(layers_.lower / "edit.txt"), "new\n");
  EXPECT_EQ(read(layers_.lower / "sub" / "added.txt"), "added\n");
  EXPECT_EQ(read(layers_.lower / "opaque" / "kept.txt"), "new\n");
  EXPECT_FALSE(fs::exists(layers_.lower / "gone-dev.txt"));
  EXPECT_FALSE(fs::exists(layers_.lower / "gone-xattr.txt"));
  EXPECT_FALSE(fs::exists(layers_.lower / "opaque" / "hidden.txt"));
  EXPECT_TRUE(fs::exists(layers_.lower / "same.txt"));
  // No temporary files are left behind.
  for (const auto& entry : fs::recursive_directory_iterator(layers_.lower)) {
    EXPECT_EQ(entry.path().filename().string().find(".cc-apply-"), std::string::npos) << entry.path();
  }
  EXPECT_EQ(render(cc::workspace::overlay_changes(layers_)), "");
}

TEST_F(OverlayChangesTest, DiscardEmptiesUpperAndWork) {
  ::chmod((layers_.work / "work").c_str(), 0);  // as overlayfs leaves it
  cc::workspace::overlay_discard(layers_);
  EXPECT_TRUE(fs::is_empty(layers_.upper));
  EXPECT_TRUE(fs::is_empty(layers_.work));
  EXPECT_EQ(read(layers_.lower / "edit.txt"), "old\n");
}

}  // namespace
}  // namespace cc::test
