// Resolution beneath a root: symlinks anywhere on the way and ".." never lead out.
#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "project/control_files.hpp"
#include "support/temp_dir.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::beneath {
namespace {

namespace fs = std::filesystem;

struct Tree {
  test::TempDir root{"cc-beneath"};
  test::TempDir outside{"cc-outside"};
  UniqueFd fd;
  Tree() {
    fs::create_directories(root / "project/sub");
    write_file_atomic(outside / "secret", "host secret");
    fd = open_root(root / "project");
  }
  fs::path project() const { return root / "project"; }
};

void expect_refused(const std::function<void()>& action, const std::string& words) {
  try {
    action();
    FAIL() << "not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(Beneath, CleanRelativePathsOnly) {
  EXPECT_TRUE(is_clean_relative("a/b.txt"));
  EXPECT_TRUE(is_clean_relative("a/b/"));
  EXPECT_FALSE(is_clean_relative(""));
  EXPECT_FALSE(is_clean_relative("/etc/passwd"));
  EXPECT_FALSE(is_clean_relative("a/../../b"));
  EXPECT_FALSE(is_clean_relative("./a"));
  EXPECT_FALSE(is_clean_relative(std::string("a\0b", 3)));
}

TEST(Beneath, ReadRefusesASymlinkedFile) {
  Tree t;
  fs::create_symlink(t.outside / "secret", t.project() / ".gitignore");
  expect_refused([&] { read_file(t.fd.get(), ".gitignore"); }, "symbolic link");
}

TEST(Beneath, ReadRefusesASymlinkedParentDirectory) {
  Tree t;
  fs::create_symlink(t.outside.path(), t.project() / "link");
  expect_refused([&] { read_file(t.fd.get(), "link/secret"); }, "symbolic link");
  EXPECT_FALSE(open_at(t.fd.get(), "link/secret", O_RDONLY).valid());
  EXPECT_EQ(errno, ELOOP);
}

TEST(Beneath, ReadIsBoundedAndRefusesSpecialFiles) {
  Tree t;
  write_file(t.fd.get(), "big", std::string(100, 'x'));
  EXPECT_EQ(read_file(t.fd.get(), "big", 100).value(), std::string(100, 'x'));
  expect_refused([&] { read_file(t.fd.get(), "big", 99); }, "larger than the limit of 99 bytes");
  ASSERT_EQ(::mkfifo((t.project() / "fifo").c_str(), 0600), 0);
  expect_refused([&] { read_file(t.fd.get(), "fifo"); }, "not a regular file");
  EXPECT_FALSE(read_file(t.fd.get(), "missing").has_value());
}

TEST(Beneath, WriteCreatesParentsAndLeavesNoTemporaryFile) {
  Tree t;
  write_file(t.fd.get(), "scripts/container", "#!/bin/sh\n", 0755);
  EXPECT_EQ(read_file_if_exists(t.project() / "scripts/container").value(), "#!/bin/sh\n");
  EXPECT_EQ(fs::status(t.project() / "scripts/container").permissions() & fs::perms::owner_exec,
            fs::perms::owner_exec);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(t.project() / "scripts")) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(Beneath, WriteNeverGoesThroughASymlinkedDirectory) {
  Tree t;
  fs::create_symlink(t.outside.path(), t.project() / "scripts");
  expect_refused([&] { write_file(t.fd.get(), "scripts/container", "x"); }, "symbolic link");
  EXPECT_FALSE(fs::exists(t.outside / "container"));
}

TEST(Beneath, WriteRefusesToReplaceASymlink) {
  Tree t;
  fs::create_symlink(t.outside / "secret", t.project() / ".gitignore");
  expect_refused([&] { write_file(t.fd.get(), ".gitignore", "x"); }, "not a regular file");
  EXPECT_EQ(read_file_if_exists(t.outside / "secret").value(), "host secret");
}

TEST(Beneath, RemoveTakesTheLinkNeverItsTarget) {
  Tree t;
  fs::create_symlink(t.outside.path(), t.project() / "link");
  expect_refused([&] { remove_file(t.fd.get(), "link/secret"); }, "symbolic link");
  EXPECT_TRUE(fs::exists(t.outside / "secret"));
  EXPECT_TRUE(remove_file(t.fd.get(), "link"));
  EXPECT_TRUE(fs::exists(t.outside / "secret"));
  EXPECT_FALSE(remove_file(t.fd.get(), "link"));
  expect_refused([&] { remove_file(t.fd.get(), "sub"); }, "is a directory");
}

TEST(Beneath, StatReportsTheLinkItself) {
  Tree t;
  fs::create_symlink(t.outside / "secret", t.project() / "l");
  auto st = stat_at(t.fd.get(), "l");
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(S_ISLNK(st->st_mode));
  EXPECT_FALSE(stat_at(t.fd.get(), "nothing").has_value());
}

TEST(Beneath, EmptyDirectoriesOnly) {
  Tree t;
  write_file(t.fd.get(), "d/f", "x");
  EXPECT_FALSE(remove_empty_directory(t.fd.get(), "d"));
  EXPECT_TRUE(remove_file(t.fd.get(), "d/f"));
  EXPECT_TRUE(remove_empty_directory(t.fd.get(), "d"));
}

TEST(ControlFiles, DirectoriesCoverTheirTreeAndNothingBeside) {
  EXPECT_NE(project::find_control_path(".git/hooks/pre-commit"), nullptr);
  EXPECT_TRUE(project::find_control_path(".git/hooks/pre-commit")->git);
  EXPECT_NE(project::find_control_path(".claude-container/config.json"), nullptr);
  EXPECT_NE(project::find_control_path(".envrc"), nullptr);
  EXPECT_EQ(project::find_control_path("scripts-old/x"), nullptr);
  EXPECT_EQ(project::find_control_path(".envrc.bak"), nullptr);
  EXPECT_EQ(project::find_control_path("src/main.cpp"), nullptr);
}

}  // namespace
}  // namespace cc::beneath
