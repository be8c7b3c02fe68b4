// skills.sync on the native engine: the host's skills, commands, agents and CLAUDE.md appear
// read-only in the container's /root/.claude, follow changes live, and sync-skills adds what
// was created since the start; a link planted in the persistent home is never followed, and a
// link in the host's tree that points outside it shows nothing of the host.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string read_host(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SkillsShareTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
  }
  fs::path claude() const { return env_->home_dir() / ".claude"; }
  void host_file(const fs::path& relative, const std::string& content) {
    fs::path p = claude() / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << content;
    env_->chown_tree(env_->home_dir());
  }
  CommandResult sh(const std::string& script) { return env_->exec({"/bin/sh", "-c", script}); }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(SkillsShareTest, VisibleReadOnlyAndRefreshed) {
  host_file("skills/hello/SKILL.md", "---\nname: hello\n---\nsay hello\n");
  host_file("commands/review.md", "review the diff\n");
  host_file("CLAUDE.md", "be brief\n");
  host_file(".credentials.json", "{\"claudeAiOauth\": \"host-login-5d1e\"}");
  host_file("settings.json", "{\"env\": {\"X\": \"host-settings-5d1e\"}}");
  auto started = env_->cli({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);

  // status says what is shared.
  auto status = env_->cli({"status"});
  EXPECT_NE(status.out.find("skills, commands, CLAUDE.md (1 skill) from " + claude().string() +
                            ", read-only in /root/.claude at every start"),
            std::string::npos)
      << describe(status);

  auto seen = sh("cat /root/.claude/skills/hello/SKILL.md /root/.claude/commands/review.md /root/.claude/CLAUDE.md");
  ASSERT_EQ(seen.exit_code, 0) << describe(seen);
  EXPECT_EQ(seen.out, "---\nname: hello\n---\nsay hello\nreview the diff\nbe brief\n");

  // Nothing inside can change the host's copies: every write is EROFS.
  for (const char* script : {"echo changed > /root/.claude/skills/hello/SKILL.md", "touch /root/.claude/skills/new",
                             "rm /root/.claude/commands/review.md", "echo changed > /root/.claude/CLAUDE.md",
                             "mkdir /root/.claude/skills/planted"}) {
    auto w = sh(script);
    EXPECT_NE(w.exit_code, 0) << script;
    EXPECT_NE(w.err.find("Read-only file system"), std::string::npos) << script << "\n" << describe(w);
  }
  EXPECT_EQ(read_host(claude() / "skills/hello/SKILL.md"), "---\nname: hello\n---\nsay hello\n");
  EXPECT_EQ(read_host(claude() / "CLAUDE.md"), "be brief\n");
  // Nothing else of the host's directory goes in (its login, its settings).
  auto rest = sh("cat /root/.claude/.credentials.json /root/.claude/settings.json 2>/dev/null; true");
  EXPECT_EQ(rest.out.find("5d1e"), std::string::npos) << describe(rest);
  // The rest of the agent's directory stays the container's own.
  EXPECT_EQ(sh("echo mine > /root/.claude/notes && cat /root/.claude/notes").out, "mine\n");

  // A skill added on the host shows at once (the mount is the host's directory).
  host_file("skills/second/SKILL.md", "second skill\n");
  EXPECT_EQ(sh("cat /root/.claude/skills/second/SKILL.md").out, "second skill\n");

  // A top-level directory created after the start needs sync-skills, which mounts it into the
  // running container.
  host_file("agents/helper.md", "an agent\n");
  EXPECT_NE(sh("cat /root/.claude/agents/helper.md").exit_code, 0);
  auto synced = env_->cli({"sync-skills"});
  ASSERT_EQ(synced.exit_code, 0) << describe(synced);
  EXPECT_NE(synced.out.find("agents"), std::string::npos) << synced.out;
  EXPECT_EQ(sh("cat /root/.claude/agents/helper.md").out, "an agent\n");
  auto w = sh("echo x > /root/.claude/agents/helper.md");
  EXPECT_NE(w.err.find("Read-only file system"), std::string::npos) << describe(w);
  // Refreshing again replaces the mounts rather than stacking them.
  ASSERT_EQ(env_->cli({"sync-skills"}).exit_code, 0);
  for (const char* target : {"skills", "agents", "CLAUDE.md"}) {
    auto mounts = sh(std::string("grep -c ' /root/.claude/") + target + " ' /proc/self/mountinfo");
    EXPECT_EQ(mounts.out, "1\n") << target << "\n" << describe(mounts);
  }

  // An editor replaces CLAUDE.md by rename: the mount still shows the old file until
  // sync-skills mounts the new one.
  host_file("CLAUDE.md.tmp", "be briefer\n");
  fs::rename(claude() / "CLAUDE.md.tmp", claude() / "CLAUDE.md");
  EXPECT_EQ(sh("cat /root/.claude/CLAUDE.md").out, "be brief\n");
  ASSERT_EQ(env_->cli({"sync-skills"}).exit_code, 0);
  EXPECT_EQ(sh("cat /root/.claude/CLAUDE.md").out, "be briefer\n");
}

TEST_P(SkillsShareTest, PlantedSymlinkInTheHomeIsNotFollowed) {
  // A first run (no skills on the host) plants links where the mounts will go.
  auto first = env_->cli({"start"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  auto planted = sh("mkdir -p /workspace/planted /root/.claude && ln -s /workspace/planted /root/.claude/skills && "
                    "ln -s /workspace/planted-file /root/.claude/CLAUDE.md && echo ok");
  ASSERT_EQ(planted.out, "ok\n") << describe(planted);
  ASSERT_EQ(env_->cli({"stop"}).exit_code, 0);

  host_file("skills/hello/SKILL.md", "host skill\n");
  host_file("CLAUDE.md", "host memory\n");
  auto second = env_->cli({"start"});
  ASSERT_EQ(second.exit_code, 0) << describe(second);
  EXPECT_NE(second.err.find("was a symbolic link"), std::string::npos) << describe(second);
  // The mounts are at /root/.claude, not where the links pointed.
  EXPECT_EQ(sh("cat /root/.claude/skills/hello/SKILL.md").out, "host skill\n");
  EXPECT_EQ(sh("cat /root/.claude/CLAUDE.md").out, "host memory\n");
  EXPECT_EQ(sh("ls -A /workspace/planted").out, "");
  EXPECT_NE(sh("test -e /workspace/planted-file").exit_code, 0);
  EXPECT_EQ(sh("test -L /root/.claude/skills || echo not-a-link").out, "not-a-link\n");

  // The same attack against a running container's refresh: the link is refused, not followed.
  ASSERT_EQ(sh("ln -s /workspace/planted /root/.claude/agents && echo ok").out, "ok\n");
  host_file("agents/helper.md", "an agent\n");
  auto synced = env_->cli({"sync-skills"});
  EXPECT_EQ(sh("ls -A /workspace/planted").out, "") << describe(synced);
  EXPECT_NE(synced.err.find("agents"), std::string::npos) << describe(synced);
}

TEST_P(SkillsShareTest, LinkToAHostFileOutsideTheTreeShowsNothingOfTheHost) {
  fs::path outside = env_->root() / "outside";
  fs::create_directories(outside);
  std::ofstream(outside / "secret.txt") << "host-secret-7f3a\n";
  env_->chown_tree(outside);
  host_file("skills/hello/SKILL.md", "host skill\n");
  fs::create_symlink(outside / "secret.txt", claude() / "skills/hello/absolute-link");
  fs::create_symlink("../../../../outside/secret.txt", claude() / "skills/hello/relative-link");
  ASSERT_EQ(read_host(claude() / "skills/hello/relative-link"), "host-secret-7f3a\n");  // it works on the host
  auto started = env_->cli({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);
  auto r = sh("cat /root/.claude/skills/hello/absolute-link /root/.claude/skills/hello/relative-link 2>&1; "
              "cat /root/.claude/skills/hello/SKILL.md");
  EXPECT_EQ(r.out.find("host-secret-7f3a"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("host skill"), std::string::npos) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Users, SkillsShareTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
