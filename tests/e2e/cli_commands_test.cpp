// Commands on a set-up project that need no running container: status of a fresh project,
// destroy's confirmation rules, allow/deny, sync-skills, completion and the man page (doctor:
// doctor_test.cpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include "cli_test_env.hpp"
#include "support/pty_session.hpp"
#include "support/required_feature.hpp"
#include "support/tool_path.hpp"

namespace cc::test {
namespace {

class CliCommands : public ::testing::Test {
 protected:
  CliTestEnv env;
  void SetUp() override {
    auto init = env.run({"init", "--mode", "playground"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
};

TEST_F(CliCommands, StatusOfAFreshProjectSaysNotCreated) {
  auto text = env.run({"status"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("not created"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("myapp-playground"), std::string::npos);

  auto json = nlohmann::json::parse(env.run({"status", "--json"}).out);
  EXPECT_EQ(json["state"], "not-created");
  EXPECT_EQ(json["mode"], "playground");
  EXPECT_TRUE(json["pid"].is_null());
  EXPECT_TRUE(json["supervisor_pid"].is_null());
  EXPECT_TRUE(json["started_at"].is_null());
}

TEST_F(CliCommands, EngineCommandsOnANotCreatedContainerExit3) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"stop"}, {"restart"}, {"logs"},
                                               {"exec", "--", "true"}, {"destroy", "--yes"}}) {
    auto result = env.run(args);
    EXPECT_EQ(result.exit_code, 3) << args.front() << ": " << result.err;
    EXPECT_NE(result.err.find("not created"), std::string::npos) << args.front() << ": " << result.err;
  }
}

TEST_F(CliCommands, DestroyWithoutYesRefusesWithoutATerminal) {
  auto result = env.run({"destroy", "--purge"}, "myapp-playground\n");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--yes"), std::string::npos) << result.err;
  EXPECT_TRUE(env.exists(".claude-container/config.json"));
}

TEST_F(CliCommands, DestroyOnATerminalNeedsTheTypedName) {
  PtyOptions options;
  options.cwd = env.project();
  options.env = env.env();
  {
    PtySession wrong({CC_BINARY, "destroy", "--purge"}, options);
    wrong.expect("Type the container name \\(myapp-playground\\) to confirm:");
    wrong.send("myapp\r");
    EXPECT_EQ(wrong.wait_exit(), 1);
    EXPECT_NE(wrong.transcript().find("Nothing was deleted"), std::string::npos) << wrong.transcript();
    EXPECT_TRUE(env.exists(".claude-container/config.json"));
  }
  PtySession right({CC_BINARY, "destroy", "--purge"}, options);
  right.expect("to confirm:");
  right.send("myapp-playground\r");
  EXPECT_EQ(right.wait_exit(), 0) << right.transcript();
  EXPECT_FALSE(env.exists(".claude-container/config.json"));
  EXPECT_FALSE(env.exists("scripts/container"));
}

TEST_F(CliCommands, DestroyPurgeWithYesRemovesTheProjectFiles) {
  auto result = env.run({"destroy", "--purge", "--yes"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(env.exists(".claude-container/config.json"));
  EXPECT_NE(result.out.find("removed .claude-container/config.json"), std::string::npos) << result.out;
  EXPECT_EQ(env.run({"status"}).exit_code, 3);
}

TEST_F(CliCommands, AllowAndDenyValidateAndUpdateTheConfig) {
  auto invalid = env.run({"allow", "*.com"});
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_EQ(line_count(invalid.err), 1u) << invalid.err;
  EXPECT_NE(invalid.err.find("*.com"), std::string::npos);
  EXPECT_TRUE(env.config_json()["network"]["allow"].empty());

  EXPECT_EQ(env.run({"allow", "example.com"}).exit_code, 0);
  EXPECT_EQ(env.run({"allow", "*.pkg.example.org:8443"}).exit_code, 0);
  auto again = env.run({"allow", "example.com"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("already"), std::string::npos);
  EXPECT_EQ(env.config_json()["network"]["allow"], nlohmann::json::array({"example.com", "*.pkg.example.org:8443"}));

  // deny moves the same pattern out of the allow list: the newest word counts.
  auto deny = env.run({"deny", "example.com"});
  EXPECT_EQ(deny.exit_code, 0) << deny.err;
  EXPECT_NE(deny.out.find("takes effect when the container starts"), std::string::npos) << deny.out;
  auto network = env.config_json()["network"];
  EXPECT_EQ(network["allow"], nlohmann::json::array({"*.pkg.example.org:8443"}));
  EXPECT_EQ(network["deny"], nlohmann::json::array({"example.com"}));

  EXPECT_EQ(env.run({"deny", "exa*mple.com"}).exit_code, 2);

  // The config stays the tool's own: a re-run of init does not report it as hand-modified.
  auto rerun = env.run({"init", "--yes"});
  ASSERT_EQ(rerun.exit_code, 0);
  EXPECT_EQ(rerun.out.find("Kept because you changed them"), std::string::npos) << rerun.out;
  EXPECT_EQ(env.config_json()["network"]["deny"], nlohmann::json::array({"example.com"}));
}

TEST_F(CliCommands, SyncSkillsSaysSoWhenTheHostHasNone) {
  auto result = env.run({"sync-skills"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Nothing to share"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find((env.home() / ".claude").string() + " has no skills, commands, agents or CLAUDE.md"),
            std::string::npos)
      << result.out;
}

// Colour only on a terminal, never with NO_COLOR set to something, and an empty NO_COLOR counts
// as unset (no-color.org). doctor paints its OK/WARN/FAIL labels.
TEST_F(CliCommands, ColourOnlyOnATerminalAndNeverUnderNoColor) {
  CommandOptions options;
  options.cwd = env.project();
  options.env = env.env();
  options.env.erase("NO_COLOR");
  options.replace_env = true;
  auto piped = run_cli({"doctor"}, options);
  EXPECT_NE(piped.out.find("OK   seccomp"), std::string::npos) << piped.out;
  EXPECT_EQ(piped.out.find('\x1b'), std::string::npos) << piped.out;

  auto on_terminal = [&](const std::string& no_color) {
    PtyOptions pty;
    pty.cwd = env.project();
    pty.env = env.env();
    pty.env["NO_COLOR"] = no_color;
    PtySession session({CC_BINARY, "doctor"}, pty);
    session.wait_exit();
    return session.raw_output();
  };
  // What makes the pipe check above able to fail: the same command on a terminal is coloured.
  auto coloured = on_terminal("");
  EXPECT_NE(coloured.find("\x1b[32mOK   \x1b[0mseccomp"), std::string::npos) << coloured;
  auto plain = on_terminal("1");
  EXPECT_NE(plain.find("OK   seccomp"), std::string::npos) << plain;
  EXPECT_EQ(plain.find('\x1b'), std::string::npos) << plain;
}

TEST_F(CliCommands, BashCompletionParsesAndCompletesCommandsAndValues) {
  auto script = env.run({"completion", "bash"});
  ASSERT_EQ(script.exit_code, 0);
  for (const auto& command : kContractCommands) {
    EXPECT_NE(script.out.find(" " + command), std::string::npos) << command;
  }
  auto file = env.root() / "completion.bash";
  std::ofstream(file) << script.out;
  // bash gets the test's own environment (its PATH is the few tools of CliTestEnv).
  CommandOptions hermetic;
  hermetic.env = env.env();
  hermetic.replace_env = true;
  EXPECT_EQ(run_command({"/bin/bash", "-n", file.string()}, hermetic).exit_code, 0);

  auto complete = [&](const std::string& words) {
    std::string program = "source '" + file.string() + "'; COMP_WORDS=(" + words +
                          "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _claude_container; printf '%s\\n' "
                          "\"${COMPREPLY[@]}\"";
    return run_command({"/bin/bash", "-c", program}, hermetic).out;
  };
  EXPECT_EQ(complete("claude-container st"), "start\nstatus\nstop\n");
  EXPECT_EQ(complete("claude-container init --mode ''"), "playground\ndevelopment\ncustom\n");
  EXPECT_NE(complete("claude-container destroy --''").find("--purge"), std::string::npos);
}

TEST_F(CliCommands, ZshCompletionParsesAndNamesEveryCommand) {
  auto script = env.run({"completion", "zsh"});
  ASSERT_EQ(script.exit_code, 0);
  for (const auto& command : kContractCommands) {
    EXPECT_NE(script.out.find("'" + command + ":"), std::string::npos) << command;
  }
  EXPECT_EQ(script.out.rfind("#compdef claude-container", 0), 0u);
  auto zsh = find_system_tool("zsh");
  CC_SKIP_UNLESS_FEATURE(zsh.has_value(), "zsh") << "zsh is not installed";
  auto file = env.root() / "_claude-container";
  std::ofstream(file) << script.out;
  CommandOptions hermetic;
  hermetic.env = env.env();
  hermetic.replace_env = true;
  EXPECT_EQ(run_command({zsh->string(), "-n", file.string()}, hermetic).exit_code, 0);
}

TEST_F(CliCommands, ManPageCoversEveryCommand) {
  auto page = env.run({"man"});
  ASSERT_EQ(page.exit_code, 0);
  EXPECT_EQ(page.out.rfind(".TH CLAUDE\\-CONTAINER 1", 0), 0u) << page.out.substr(0, 80);
  for (const auto& command : kContractCommands) {
    std::string escaped;
    for (char c : command) escaped += c == '-' ? std::string("\\-") : std::string(1, c);
    EXPECT_NE(page.out.find(".SS \"" + escaped + "\""), std::string::npos) << command;
  }
  EXPECT_NE(page.out.find("\\-\\-purge"), std::string::npos);
  EXPECT_NE(page.out.find(".SH EXIT STATUS"), std::string::npos);
}

}  // namespace
}  // namespace cc::test
