// Finding Claude Code on the host: every place the issue names, in its order, and the
// hostile shapes (a package whose bin leaves it, malformed or huge package.json, a `claude`
// sitting in the home itself) that must never make the engine mount more than the install.
#include <sys/stat.h>

#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "integrations/agent_install.hpp"
#include "support/temp_dir.hpp"

namespace cc::integrations {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text, fs::perms perms = fs::perms::owner_all | fs::perms::group_read |
                                                                             fs::perms::others_read) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  fs::permissions(path, perms);
}

constexpr auto kExecutable = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec;

// An npm package of Claude Code below `prefix`, bin/claude.exe, as npm installs it.
fs::path make_package(const fs::path& prefix, const std::string& version, const std::string& bin = "bin/claude.exe") {
  fs::path package = prefix / "lib/node_modules/@anthropic-ai/claude-code";
  write(package / "package.json",
        R"({"name": "@anthropic-ai/claude-code", "version": ")" + version + R"(", "bin": {"claude": ")" + bin + R"("}})");
  write(package / "bin/claude.exe", "#!/bin/sh\necho claude\n", kExecutable);
  return package;
}

class AgentInstallTest : public ::testing::Test {
 protected:
  test::TempDir tmp_{"cc-agent-install"};
  fs::path home_ = tmp_ / "home";
  std::map<std::string, std::string> vars_{{"HOME", home_.string()}, {"PATH", ""}};
  std::vector<fs::path> system_{tmp_ / "system"};

  void SetUp() override { fs::create_directories(home_); }
  std::optional<AgentInstall> find() {
    auto vars = vars_;
    return find_claude_code(
        [vars](const std::string& name) -> std::optional<std::string> {
          auto it = vars.find(name);
          if (it == vars.end()) return std::nullopt;
          return it->second;
        },
        system_);
  }
};

TEST_F(AgentInstallTest, NothingInstalledIsNothingFound) {
  EXPECT_FALSE(find());
  EXPECT_NE(claude_code_install_hint().find("npm install -g @anthropic-ai/claude-code"), std::string::npos);
}

TEST_F(AgentInstallTest, SystemNpmPrefix) {
  auto package = make_package(tmp_ / "system", "2.1.197");
  auto found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->executable, fs::canonical(package / "bin/claude.exe"));
  EXPECT_EQ(found->install_dir, fs::canonical(package));
  EXPECT_EQ(found->version, "2.1.197");
  EXPECT_NE(describe(*found).find("2.1.197"), std::string::npos);
}

TEST_F(AgentInstallTest, UserPrefixFromTheEnvironmentWinsOverTheSystem) {
  make_package(tmp_ / "system", "1.0.0");
  auto package = make_package(tmp_ / "prefix", "2.0.0");
  vars_["NPM_CONFIG_PREFIX"] = (tmp_ / "prefix").string();
  auto found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->install_dir, fs::canonical(package));
  EXPECT_EQ(found->version, "2.0.0");
}

TEST_F(AgentInstallTest, UserPrefixFromNpmrcWithVariables) {
  auto package = make_package(home_ / "npm-here", "2.0.1");
  vars_["SUBDIR"] = "npm-here";
  write(home_ / ".npmrc", "; comment\nfund=false\nprefix = ${HOME}/${SUBDIR}\n");
  auto found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->install_dir, fs::canonical(package));

  write(home_ / ".npmrc", "prefix=~/npm-here\n");
  found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->install_dir, fs::canonical(package));
}

TEST_F(AgentInstallTest, NpmGlobalInTheHome) {
  auto package = make_package(home_ / ".npm-global", "2.0.2");
  auto found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->install_dir, fs::canonical(package));
}

TEST_F(AgentInstallTest, NativeInstallerMountsOnlyItsVersionsDirectory) {
  fs::path versions = home_ / ".local/share/claude/versions";
  write(versions / "2.1.200", "#!/bin/sh\n", kExecutable);
  fs::create_directories(home_ / ".local/bin");
  fs::create_symlink("../share/claude/versions/2.1.200", home_ / ".local/bin/claude");
  make_package(tmp_ / "system", "1.0.0");
  auto found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->executable, fs::canonical(versions / "2.1.200"));
  EXPECT_EQ(found->install_dir, fs::canonical(versions));
  EXPECT_EQ(found->version, "2.1.200");
}

TEST_F(AgentInstallTest, ClaudeOnThePathWinsAndResolvesToItsPackage) {
  make_package(home_ / ".npm-global", "1.0.0");
  auto package = make_package(tmp_ / "nvm/versions/node/v22", "3.0.0");
  fs::create_directories(tmp_ / "nvm/versions/node/v22/bin");
  fs::create_symlink(package / "bin/claude.exe", tmp_ / "nvm/versions/node/v22/bin/claude");
  vars_["PATH"] = "relative/bin:" + (tmp_ / "empty").string() + ":" + (tmp_ / "nvm/versions/node/v22/bin").string();
  auto found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->install_dir, fs::canonical(package));
  EXPECT_EQ(found->version, "3.0.0");
  EXPECT_NE(found->found_via.find("PATH"), std::string::npos);
}

TEST_F(AgentInstallTest, OtherLayoutsOnThePathBringTheirDirectoryButNeverTheHome) {
  write(tmp_ / "tools/claude", "#!/bin/sh\n", kExecutable);
  vars_["PATH"] = (tmp_ / "tools").string();
  auto found = find();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->install_dir, fs::canonical(tmp_ / "tools"));

  write(home_ / "claude", "#!/bin/sh\n", kExecutable);
  vars_["PATH"] = home_.string();
  EXPECT_FALSE(find());
}

TEST_F(AgentInstallTest, HostilePackagesAreNotClaudeCode) {
  // A bin that leaves the package (the engine would mount the package, and run something else).
  make_package(home_ / ".npm-global", "1.0.0", "../../../../../../bin/sh");
  EXPECT_FALSE(find());
  // Malformed, not an object, another package's name, huge.
  fs::path json = home_ / ".npm-global/lib/node_modules/@anthropic-ai/claude-code/package.json";
  for (const std::string& text : {std::string("{\"name\": "), std::string("[1, 2]"),
                                  std::string(R"({"name": "evil", "version": "1", "bin": "bin/claude.exe"})"),
                                  R"({"name": "@anthropic-ai/claude-code", "bin": "bin/claude.exe", "x": ")" +
                                      std::string(300 * 1024, 'a') + "\"}"}) {
    write(json, text);
    EXPECT_FALSE(find()) << text.substr(0, 80);
  }
  // Writable by anyone: someone else could swap the agent.
  make_package(home_ / ".npm-global", "1.0.0");
  fs::permissions(home_ / ".npm-global/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe",
                  fs::perms::others_write, fs::perm_options::add);
  EXPECT_FALSE(find());
}

}  // namespace
}  // namespace cc::integrations
