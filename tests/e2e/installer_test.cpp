// install.sh and uninstall.sh: shellcheck-clean; install exactly the binary, completions and
// man page into a prefix, idempotently, with stdin that is not a terminal (as under curl | bash);
// uninstall removes exactly those files and nothing else. As root and as cc-tester.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_test_env.hpp"
#include "support/required_feature.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/tool_path.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kInstalled = {
    "bin/claude-container",
    "share/bash-completion/completions/claude-container",
    "share/zsh/site-functions/_claude-container",
    "share/man/man1/claude-container.1",
};

// Every regular file below `root`, relative to it.
std::set<std::string> files_below(const fs::path& root) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (!entry.is_directory()) files.insert(fs::relative(entry.path(), root).string());
  return files;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(InstallerLint, BothScriptsPassShellcheck) {
  const auto shellcheck = find_system_tool("shellcheck");
  CC_SKIP_UNLESS_FEATURE(shellcheck.has_value(), "shellcheck") << "shellcheck is not installed";
  for (const char* script : {"install.sh", "uninstall.sh"}) {
    const auto result = run_command({shellcheck->string(), "--norc", fs::path(CC_SOURCE_DIR) / script});
    EXPECT_EQ(result.exit_code, 0) << script << ":\n" << result.out << result.err;
  }
}

class Installer : public ::testing::TestWithParam<TestUser> {
 protected:
  void SetUp() override {
    std::string why;
    if (!run_as(env_, GetParam(), &why)) GTEST_SKIP() << why;
    // Copies of the scripts and the binary inside the test tree, so cc-tester can reach them
    // wherever the checkout lies.
    fs::create_directories(tree() / "src");
    for (const char* script : {"install.sh", "uninstall.sh"})
      fs::copy_file(fs::path(CC_SOURCE_DIR) / script, tree() / "src" / script);
    fs::copy_file(CC_BINARY, tree() / "src/claude-container");
    fs::create_directories(prefix() / "bin");
    std::ofstream(prefix() / "bin/unrelated") << "keep me\n";
    env_.give_tree();
  }
  fs::path tree() const { return env_.root(); }
  fs::path prefix() const { return tree() / "prefix"; }

  CommandResult script(const std::string& name, std::vector<std::string> args,
                       const std::string& input = "") const {
    CommandOptions options;
    options.cwd = tree();
    options.env = {{"PATH", tools_.dir()}, {"HOME", env_.home().string()}, {"NO_COLOR", "1"}};
    options.replace_env = true;
    options.input = input;  // a pipe, not a terminal, closed after `input`
    options.uid = uid();
    options.gid = gid();
    options.timeout_seconds = 60;
    args.insert(args.begin(), {"/bin/bash", (tree() / "src" / name).string()});
    return run_command(args, options);
  }
  CommandResult install() const {
    return script("install.sh", {"--binary", (tree() / "src/claude-container").string(), "--prefix",
                                 prefix().string(), "--no-deps", "--no-plugin"},
                  "this must never be read\n");
  }

  std::optional<uid_t> uid() const {
    if (GetParam() == TestUser::root || ::geteuid() != 0) return std::nullopt;
    return ::getpwnam("cc-tester")->pw_uid;
  }
  std::optional<gid_t> gid() const {
    if (GetParam() == TestUser::root || ::geteuid() != 0) return std::nullopt;
    return ::getpwnam("cc-tester")->pw_gid;
  }

  CliTestEnv env_;
  // Exactly the programs the scripts run besides bash built-ins.
  ToolPath tools_{{"bash", "uname", "id", "dirname", "mkdir", "mktemp", "cp", "chmod", "mv", "rm", "cat"}};
};

TEST_P(Installer, InstallsExactlyItsFilesTwiceThenUninstallLeavesTheRest) {
  std::set<std::string> expected = kInstalled;
  expected.insert("bin/unrelated");

  const auto first = install();
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(files_below(prefix()), expected);
  // The prefix is not on the hermetic PATH, so the script says how to add it.
  EXPECT_NE(first.out.find("add " + (prefix() / "bin").string() + " to PATH"), std::string::npos)
      << first.out;
  const fs::path bin = prefix() / "bin/claude-container";
  EXPECT_EQ(read_all(bin), read_all(CC_BINARY));
  EXPECT_NE(fs::status(bin).permissions() & fs::perms::owner_exec, fs::perms::none);
  struct stat st {};
  ASSERT_EQ(::stat(bin.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid().value_or(::geteuid()));  // really ran as the user under test
  const std::string man = read_all(prefix() / "share/man/man1/claude-container.1");
  EXPECT_NE(man.find(".TH"), std::string::npos) << man.substr(0, 200);
  EXPECT_NE(read_all(prefix() / "share/zsh/site-functions/_claude-container").find("#compdef"), std::string::npos);
  EXPECT_NE(read_all(prefix() / "share/bash-completion/completions/claude-container").find("complete"),
            std::string::npos);

  // Idempotent: a second run succeeds and leaves the same files with the same contents.
  const auto second = install();
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(files_below(prefix()), expected);
  EXPECT_EQ(read_all(prefix() / "share/man/man1/claude-container.1"), man);

  const auto removed = script("uninstall.sh", {"--prefix", prefix().string(), "--no-plugin"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_EQ(files_below(prefix()), std::set<std::string>{"bin/unrelated"});
  EXPECT_EQ(read_all(prefix() / "bin/unrelated"), "keep me\n");
  EXPECT_NE(removed.out.find("claude-container destroy"), std::string::npos) << removed.out;

  const auto again = script("uninstall.sh", {"--prefix", prefix().string(), "--no-plugin"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(files_below(prefix()), std::set<std::string>{"bin/unrelated"});
}

TEST_P(Installer, PipedWithoutACheckoutAsksForOne) {
  // As under curl | bash: the script arrives on stdin and there is no checkout beside it.
  CommandOptions options;
  options.cwd = tree();
  options.env = {{"PATH", tools_.dir()}, {"HOME", env_.home().string()}};
  options.replace_env = true;
  options.input = read_all(tree() / "src/install.sh");
  options.uid = uid();
  options.gid = gid();
  options.timeout_seconds = 60;
  const auto result = run_command({"/bin/bash", "-s", "--", "--no-deps", "--no-plugin", "--prefix",
                                   prefix().string()},
                                  options);
  EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
  EXPECT_NE(result.err.find("--from-source DIR"), std::string::npos) << result.err;
  EXPECT_EQ(files_below(prefix()), std::set<std::string>{"bin/unrelated"});
}

TEST_P(Installer, RejectsUnknownOptionsAndANonCheckout) {
  const auto unknown = script("install.sh", {"--frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("--frobnicate"), std::string::npos) << unknown.err;
  const auto not_checkout =
      script("install.sh", {"--from-source", tree().string(), "--no-deps", "--no-plugin", "--prefix",
                            prefix().string()});
  EXPECT_EQ(not_checkout.exit_code, 2) << not_checkout.err;
  EXPECT_NE(not_checkout.err.find("not a claude-container checkout"), std::string::npos) << not_checkout.err;
  EXPECT_EQ(files_below(prefix()), std::set<std::string>{"bin/unrelated"});
}

TEST_P(Installer, RegistersAndRemovesThePluginThroughClaude) {
  // A stand-in `claude` that records its arguments; the checkout is the scripts' directory.
  fs::create_directories(tree() / "fake");
  std::ofstream(tree() / "fake/claude") << "#!/bin/sh\necho \"$*\" >> " << (tree() / "claude.log").string() << "\n";
  fs::permissions(tree() / "fake/claude", fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                                               fs::perms::group_read | fs::perms::others_read);
  std::ofstream(tree() / "src/CMakeLists.txt") << "# marks a checkout\n";
  fs::create_directories(tree() / "src/src");
  fs::create_directories(tree() / "src/.claude-plugin");
  std::ofstream(tree() / "src/.claude-plugin/marketplace.json") << "{}\n";
  env_.give_tree();
  const std::string path = (tree() / "fake").string() + ":" + tools_.dir();
  auto with_claude = [&](const std::string& name, std::vector<std::string> args) {
    CommandOptions options;
    options.cwd = tree();
    options.env = {{"PATH", path}, {"HOME", env_.home().string()}};
    options.replace_env = true;
    options.uid = uid();
    options.gid = gid();
    options.timeout_seconds = 60;
    args.insert(args.begin(), {"/bin/bash", (tree() / "src" / name).string()});
    return run_command(args, options);
  };
  const auto installed = with_claude("install.sh", {"--binary", (tree() / "src/claude-container").string(),
                                                    "--prefix", prefix().string(), "--no-deps", "--yes"});
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  const auto removed = with_claude("uninstall.sh", {"--prefix", prefix().string()});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_EQ(read_all(tree() / "claude.log"),
            "plugin marketplace add " + (tree() / "src").string() +
                "\nplugin install container-isolation@claude-container\n"
                "plugin uninstall container-isolation@claude-container\n"
                "plugin marketplace remove claude-container\n");
  // --no-plugin leaves claude alone.
  fs::remove(tree() / "claude.log");
  ASSERT_EQ(with_claude("install.sh", {"--binary", (tree() / "src/claude-container").string(), "--prefix",
                                       prefix().string(), "--no-deps", "--no-plugin"})
                .exit_code,
            0);
  ASSERT_EQ(with_claude("uninstall.sh", {"--prefix", prefix().string(), "--no-plugin"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(tree() / "claude.log"));
}

INSTANTIATE_TEST_SUITE_P(Users, Installer, ::testing::Values(TestUser::root, TestUser::unprivileged),
                         user_name);

}  // namespace
}  // namespace cc::test
