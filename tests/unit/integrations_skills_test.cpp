// The engine-neutral part of skills.sync: which host entries are shared, and the copy for
// engines that copy (no link that leaves its tree followed, no special file, bounded).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integrations/skills.hpp"
#include "integrations/skills_archive.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

namespace cc::integrations {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::trunc | std::ios::binary) << content;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

config::EnvLookup env_of(const std::map<std::string, std::string>& values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

TEST(IntegrationsSkills, ConfigDirComesFromClaudeConfigDirElseHome) {
  EXPECT_EQ(host_claude_dir(env_of({{"HOME", "/home/u"}})), fs::path("/home/u/.claude"));
  EXPECT_EQ(host_claude_dir(env_of({{"HOME", "/home/u"}, {"CLAUDE_CONFIG_DIR", "/cfg"}})), fs::path("/cfg"));
  EXPECT_EQ(host_claude_dir(env_of({{"HOME", "/home/u"}, {"CLAUDE_CONFIG_DIR", ""}})), fs::path("/home/u/.claude"));
  EXPECT_FALSE(host_claude_dir(env_of({})).has_value());
}

TEST(IntegrationsSkills, SharesOnlyTheFourEntriesThatExistAndAreNotLinks) {
  test::TempDir dir;
  write(dir / "skills/a/SKILL.md", "a");
  write(dir / "CLAUDE.md", "memory");
  write(dir / ".credentials.json", "{}");
  write(dir / "settings.json", "{}");
  fs::create_directories(dir / "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", dir / "commands");
  write(dir / "agents", "not a directory");
  std::vector<std::string> skipped;
  auto items = shared_skill_items(dir.path(), &skipped);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].name, "skills");
  EXPECT_TRUE(items[0].directory);
  EXPECT_EQ(items[1].name, "CLAUDE.md");
  EXPECT_FALSE(items[1].directory);
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("symbolic link"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("not a directory"), std::string::npos) << skipped[1];
  EXPECT_EQ(skill_names(items), std::vector<std::string>{"a"});
}

TEST(IntegrationsSkills, CopyFollowsNoLinkThatLeavesTheTreeAndNoSpecialFile) {
  test::TempDir dir;
  fs::path src = dir / "claude";
  write(src / "skills/a/SKILL.md", "skill a");
  write(src / "skills/a/run.sh", "#!/bin/sh\n");
  fs::permissions(src / "skills/a/run.sh", fs::perms(0755));
  write(dir / "outside/secret.txt", "host secret");
  fs::create_symlink(dir / "outside/secret.txt", src / "skills/a/absolute");
  fs::create_symlink("../../../outside/secret.txt", src / "skills/a/relative");
  fs::create_symlink("SKILL.md", src / "skills/a/inside");
  fs::create_directory_symlink("a", src / "skills/b");  // another skill, linked inside the tree
  fs::create_directory_symlink("..", src / "skills/a/loop");
  ASSERT_EQ(::mkfifo((src / "skills/a/fifo").c_str(), 0644), 0);
  write(src / "CLAUDE.md", "memory");
  auto items = shared_skill_items(src);
  fs::create_directories(dir / "dest");
  auto report = copy_skill_items(items, dir / "dest");

  EXPECT_EQ(read(dir / "dest/skills/a/SKILL.md"), "skill a");
  EXPECT_EQ(read(dir / "dest/skills/a/inside"), "skill a");  // a link inside arrives as the file
  EXPECT_FALSE(fs::is_symlink(dir / "dest/skills/a/inside"));
  EXPECT_EQ(read(dir / "dest/skills/b/SKILL.md"), "skill a");
  EXPECT_EQ(fs::status(dir / "dest/skills/a/run.sh").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  EXPECT_EQ(read(dir / "dest/CLAUDE.md"), "memory");
  for (const char* gone : {"skills/a/absolute", "skills/a/relative", "skills/a/fifo"}) {
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "dest" / gone))) << gone;
  }
  // Nothing of outside/ anywhere in the copy.
  for (const auto& entry : fs::recursive_directory_iterator(dir / "dest")) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(read(entry.path()).find("host secret"), std::string::npos) << entry.path();
    }
    EXPECT_FALSE(entry.is_symlink()) << entry.path();
  }
  std::string skipped;
  for (const auto& line : report.skipped) skipped += line + "\n";
  EXPECT_NE(skipped.find("skills/a/absolute: a symbolic link that leaves skills"), std::string::npos) << skipped;
  EXPECT_NE(skipped.find("skills/a/relative: a symbolic link that leaves skills"), std::string::npos) << skipped;
  EXPECT_NE(skipped.find("skills/a/fifo: not a regular file or directory"), std::string::npos) << skipped;
}

TEST(IntegrationsSkills, CopyIsBounded) {
  test::TempDir dir;
  write(dir / "claude/skills/a/big", std::string(4096, 'x'));
  auto items = shared_skill_items(dir / "claude");
  fs::create_directories(dir / "d1");
  CopyLimits small;
  small.max_file_bytes = 1024;
  EXPECT_THROW(copy_skill_items(items, dir / "d1", small), Error);
  fs::create_directories(dir / "d2");
  CopyLimits few;
  few.max_entries = 1;
  EXPECT_THROW(copy_skill_items(items, dir / "d2", few), Error);
  fs::create_directories(dir / "d3");
  CopyLimits shallow;
  shallow.max_depth = 1;
  EXPECT_THROW(copy_skill_items(items, dir / "d3", shallow), Error);
}

TEST(IntegrationsSkills, ArchiveHoldsTheCleanCopyOnly) {
  test::TempDir dir;
  write(dir / "claude/skills/a/SKILL.md", "skill a");
  write(dir / "outside/secret.txt", "host secret");
  fs::create_symlink(dir / "outside/secret.txt", dir / "claude/skills/a/leak");
  auto archive = archive_skill_items(shared_skill_items(dir / "claude"));
  std::string bytes;
  char buffer[4096];
  for (ssize_t n; (n = ::read(archive.fd.get(), buffer, sizeof buffer)) > 0;) bytes.append(buffer, static_cast<std::size_t>(n));
  EXPECT_NE(bytes.find("skills/a/SKILL.md"), std::string::npos);
  EXPECT_NE(bytes.find("skill a"), std::string::npos);
  EXPECT_EQ(bytes.find("host secret"), std::string::npos);
  EXPECT_EQ(bytes.find("leak"), std::string::npos);
}

// The copy path end to end, as an engine that copies runs it inside: the unpack script replaces
// each entry (a link left there is removed, not written through) and leaves the rest alone.
TEST(IntegrationsSkills, UnpackScriptReplacesEachEntryWithoutFollowingLinks) {
  test::TempDir dir;
  write(dir / "host/skills/a/SKILL.md", "new skill");
  write(dir / "host/CLAUDE.md", "new memory");
  write(dir / "inside/.claude/settings.json", "{}");
  write(dir / "inside/.claude/skills/old/SKILL.md", "old skill");
  write(dir / "elsewhere/keep.txt", "untouched");
  fs::create_directory_symlink(dir / "elsewhere", dir / "inside/.claude/commands");
  write(dir / "host/commands/c.md", "a command");
  auto archive = archive_skill_items(shared_skill_items(dir / "host"));

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(archive.fd.get(), STDIN_FILENO);
    std::string home = "HOME=" + (dir / "inside").string();
    char* const envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), home.data(), nullptr};
    char* const argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(kSkillsUnpackScript), nullptr};
    ::execve("/bin/sh", argv, envp);
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(read(dir / "inside/.claude/skills/a/SKILL.md"), "new skill");
  EXPECT_FALSE(fs::exists(dir / "inside/.claude/skills/old"));
  EXPECT_EQ(read(dir / "inside/.claude/CLAUDE.md"), "new memory");
  EXPECT_FALSE(fs::is_symlink(dir / "inside/.claude/commands"));
  EXPECT_EQ(read(dir / "inside/.claude/commands/c.md"), "a command");
  EXPECT_EQ(read(dir / "elsewhere/keep.txt"), "untouched");
  EXPECT_FALSE(fs::exists(dir / "elsewhere/c.md"));
  EXPECT_EQ(read(dir / "inside/.claude/settings.json"), "{}");
  EXPECT_FALSE(fs::exists(dir / "inside/.claude/.skills-incoming"));
}

}  // namespace
}  // namespace cc::integrations
