// The interactive setup driven through a real pseudo-terminal, keys as a person types them.
#include <csignal>

#include <gtest/gtest.h>

#include "cli_test_env.hpp"
#include "support/pty_session.hpp"

namespace cc::test {
namespace {

using Keys = PtySession;

class WizardPty : public ::testing::Test {
 protected:
  CliTestEnv env;

  std::unique_ptr<PtySession> start(const std::vector<std::string>& args) {
    PtyOptions options;
    options.cwd = env.project();
    options.env = env.env();
    std::vector<std::string> argv = {CC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<PtySession>(argv, options);
  }

  // Waits for a single-choice question to be fully drawn, then sends the keys.
  static void answer_choice(PtySession& pty, const std::string& question, const std::string& keys) {
    pty.expect(question);
    pty.expect("Enter to accept\\)");
    pty.send(keys);
  }
};

TEST_F(WizardPty, PlaygroundAsksOnlyAboutSkills) {
  auto pty = start({"init"});
  answer_choice(*pty, "Choose container isolation mode:", Keys::kEnter);  // the default: Playground
  pty->expect("Choose container isolation mode: Playground \\(recommended\\)");
  answer_choice(*pty, "Sync your Claude skills to the container\\?", "2");
  pty->expect("Sync your Claude skills to the container\\? No");
  pty->expect("Container isolation environment configured");
  EXPECT_EQ(pty->wait_exit(), 0) << pty->transcript();

  // Exactly one question after the mode: none of Custom's were asked.
  std::string transcript = pty->transcript();
  for (const char* custom_question : {"Network access", "Workspace storage", "API credentials", "MCP", "Git"}) {
    EXPECT_EQ(transcript.find(custom_question), std::string::npos) << custom_question;
  }
  EXPECT_TRUE(pty->in_cooked_mode());

  auto config = env.config_json();
  EXPECT_EQ(config["mode"], "playground");
  EXPECT_EQ(config["network"]["policy"], "isolated");
  EXPECT_EQ(config["storage"]["type"], "volume");
  EXPECT_EQ(config["skills"]["sync"], false);
  EXPECT_TRUE(env.exists("scripts/container"));
  EXPECT_TRUE(env.exists(".claude-container/manifest.json"));
}

TEST_F(WizardPty, DevelopmentWarnsAndNeedsConfirmation) {
  auto pty = start({"init"});
  answer_choice(*pty, "Choose container isolation mode:", Keys::kDown);
  pty->expect("Enter to accept\\)");  // drawn again with Development highlighted
  pty->send(Keys::kEnter);
  pty->expect("DEVELOPMENT MODE WARNING");
  pty->expect("full internet access");
  pty->expect("Continue with Development mode\\? \\(y/N\\)");
  pty->send(Keys::kEnter);  // the default is No: back to the choice of mode
  pty->expect("Continue with Development mode\\? No");
  answer_choice(*pty, "Choose container isolation mode:", "2");
  pty->expect("Continue with Development mode\\?");
  pty->send("y");
  answer_choice(*pty, "Sync your Claude skills to the container\\?", Keys::kEnter);
  pty->expect("configured");
  EXPECT_EQ(pty->wait_exit(), 0) << pty->transcript();

  auto config = env.config_json();
  EXPECT_EQ(config["mode"], "development");
  EXPECT_EQ(config["network"]["policy"], "full");
  EXPECT_EQ(config["storage"]["type"], "bind");
  EXPECT_EQ(config["credentials"]["api"], "shared");
  EXPECT_EQ(config["skills"]["sync"], true);
}

TEST_F(WizardPty, CustomWithArrowsNumbersAndTypedValues) {
  env.write_git_identity("Host Person", "host@example.com");
  auto pty = start({"init"});
  pty->expect("Choose container isolation mode:");
  pty->expect("Enter to accept\\)");
  pty->resize(30, 72);  // the question is drawn again for the new width
  pty->expect("Choose container isolation mode:");
  pty->expect("Enter to accept\\)");
  pty->send("3");
  pty->expect("Choose container isolation mode: Custom");

  answer_choice(*pty, "Network access:", Keys::kDown);  // from the default Isolated to Development
  pty->expect("Enter to accept\\)");
  pty->send(Keys::kEnter);
  pty->expect("Network access: Development");
  answer_choice(*pty, "Workspace storage:", "3");
  pty->expect("Workspace storage: Hybrid");
  answer_choice(*pty, "API credentials:", Keys::kEnter);
  pty->expect("API credentials: Gateway");
  answer_choice(*pty, "Sync your Claude skills to the container\\?", "2");
  answer_choice(*pty, "Where should MCP servers run\\?", std::string(Keys::kDown) + Keys::kEnter);
  pty->expect("Where should MCP servers run\\? Host");

  pty->expect("Which MCP servers\\?");
  pty->expect("Enter to accept\\)");
  // 1 and 3 toggle Filesystem and GitHub; Down + space adds PostgreSQL; 1 again drops Filesystem.
  pty->send("13");
  pty->send(Keys::kDown);
  pty->send(" 1");
  pty->send(Keys::kEnter);
  pty->expect("Which MCP servers\\? GitHub, PostgreSQL");

  pty->expect("Git user name: \\(Host Person\\)");
  pty->send(Keys::kEnter);
  pty->expect("Git email: \\(host@example.com\\)");
  pty->send("ada@example.com\r");
  pty->expect("Git email: ada@example.com");
  answer_choice(*pty, "Git credentials:", "3");
  pty->expect("Git credentials: SSH agent");

  answer_choice(*pty, "Extra environment variables:", "3");
  pty->expect("Variable:");
  pty->send("FOO=bar\r");
  pty->expect("Variable: FOO=bar");
  pty->expect("Variable:");
  pty->send(Keys::kEnter);

  answer_choice(*pty, "Container engine:", Keys::kEnter);
  pty->expect("Container engine: Auto");
  answer_choice(*pty, "Base image:", "2");
  pty->expect("Base image: debian");
  pty->expect("CPUs: \\(2\\)");
  pty->send("3\r");
  pty->expect("Memory \\(e.g. 4g, 512m\\): \\(4g\\)");
  pty->send("lots\r");
  pty->expect("found \"lots\"");  // the answer is refused and asked again
  pty->send("\x15" "512m\r");     // Ctrl-U clears the line
  pty->expect("Memory \\(e.g. 4g, 512m\\): 512m");
  pty->expect("Container name: \\(myapp-custom\\)");
  pty->send(Keys::kEnter);
  pty->expect("configured");
  EXPECT_EQ(pty->wait_exit(), 0) << pty->transcript();
  EXPECT_TRUE(pty->in_cooked_mode());

  auto config = env.config_json();
  EXPECT_EQ(config["mode"], "custom");
  EXPECT_EQ(config["name"], "myapp-custom");
  EXPECT_EQ(config["network"]["policy"], "development");
  EXPECT_EQ(config["storage"]["type"], "hybrid");
  EXPECT_EQ(config["credentials"]["api"], "gateway");
  EXPECT_EQ(config["skills"]["sync"], false);
  EXPECT_EQ(config["mcp"]["placement"], "host");
  EXPECT_EQ(config["mcp"]["servers"], nlohmann::json::array({"github", "postgres"}));
  EXPECT_EQ(config["git"]["name"], "Host Person");
  EXPECT_EQ(config["git"]["email"], "ada@example.com");
  EXPECT_EQ(config["git"]["credentials"], "ssh");
  // The typed variable only: the MCP servers run on the host, so the container gets none of
  // their secrets, and init prints the commands for the host's Claude Code instead.
  EXPECT_EQ(config["env"], nlohmann::json({{"FOO", "bar"}}));
  EXPECT_NE(pty->transcript().find("claude mcp add-json -s local github"), std::string::npos) << pty->transcript();
  EXPECT_EQ(config["engine"], "auto");
  EXPECT_EQ(config["image"]["base"], "debian");
  EXPECT_EQ(config["resources"]["cpus"], 3);
  EXPECT_EQ(config["resources"]["memory"], "512m");
}

TEST_F(WizardPty, CtrlCInTheMiddleWritesNothingAndRestoresTheTerminal) {
  auto pty = start({"init"});
  answer_choice(*pty, "Choose container isolation mode:", "3");
  answer_choice(*pty, "Network access:", "4");
  answer_choice(*pty, "Workspace storage:", "2");
  pty->expect("API credentials:");
  pty->expect("Enter to accept\\)");
  pty->send(Keys::kCtrlC);
  pty->expect("nothing was written");
  EXPECT_EQ(pty->wait_exit(), 1) << pty->transcript();
  EXPECT_TRUE(pty->in_cooked_mode());
  EXPECT_FALSE(env.exists(".claude-container"));
  EXPECT_FALSE(env.exists("scripts"));
  EXPECT_FALSE(env.exists(".gitignore"));
}

TEST_F(WizardPty, KilledBySignalRestoresTheTerminalAndWritesNothing) {
  auto pty = start({"init"});
  answer_choice(*pty, "Choose container isolation mode:", "3");
  pty->expect("Network access:");
  pty->expect("Enter to accept\\)");
  ASSERT_FALSE(pty->in_cooked_mode());  // raw mode while the question waits
  pty->signal(SIGTERM);
  EXPECT_EQ(pty->wait_exit(), 128 + SIGTERM);
  EXPECT_TRUE(pty->in_cooked_mode());
  EXPECT_FALSE(env.exists(".claude-container"));
}

TEST_F(WizardPty, CtrlCWhileTypingTextWritesNothing) {
  auto pty = start({"init"});
  answer_choice(*pty, "Choose container isolation mode:", "3");
  for (const char* question : {"Network access:", "Workspace storage:", "API credentials:",
                               "Sync your Claude skills to the container\\?", "Where should MCP servers run\\?"}) {
    answer_choice(*pty, question, Keys::kEnter);
  }
  pty->expect("Which MCP servers\\?");
  pty->expect("Enter to accept\\)");
  pty->send(Keys::kEnter);
  pty->expect("Git user name:");
  pty->send("Half typed");
  pty->send(Keys::kCtrlC);
  EXPECT_EQ(pty->wait_exit(), 1) << pty->transcript();
  EXPECT_TRUE(pty->in_cooked_mode());
  EXPECT_FALSE(env.exists(".claude-container"));
}

TEST_F(WizardPty, RerunShowsTheCurrentSettingsAndUsesThemAsDefaults) {
  ASSERT_EQ(env.run({"init", "--mode", "custom", "--network", "none", "--storage", "bind", "--name", "box"}).exit_code,
            0);
  auto pty = start({"init"});
  pty->expect("set up already: mode custom, name box, network none, storage bind");
  answer_choice(*pty, "Choose container isolation mode:", Keys::kEnter);
  pty->expect("Choose container isolation mode: Custom");
  answer_choice(*pty, "Network access:", Keys::kEnter);
  pty->expect("Network access: None");
  answer_choice(*pty, "Workspace storage:", Keys::kEnter);
  pty->expect("Workspace storage: Bind mount");
  pty->send(Keys::kCtrlC);  // leaving now keeps the old settings untouched
  EXPECT_EQ(pty->wait_exit(), 1);
  EXPECT_EQ(env.config_json()["network"]["policy"], "none");
  EXPECT_EQ(env.config_json()["name"], "box");
}

TEST_F(WizardPty, FlagsAnswerTheirQuestionsOnATerminal) {
  auto pty = start({"init", "--no-skills"});
  answer_choice(*pty, "Choose container isolation mode:", "1");
  pty->expect("configured");  // the skills question was answered by --no-skills
  EXPECT_EQ(pty->wait_exit(), 0) << pty->transcript();
  EXPECT_EQ(pty->transcript().find("Sync your Claude skills"), std::string::npos);
  EXPECT_EQ(env.config_json()["skills"]["sync"], false);
}

TEST_F(WizardPty, MenuNavigatesAndRunsTheChosenCommand) {
  auto pty = start({"menu"});
  answer_choice(*pty, "What would you like to do with container isolation\\?", "4");
  answer_choice(*pty, "Manage the container:", "4");  // Go back
  answer_choice(*pty, "What would you like to do with container isolation\\?", "2");  // Check status
  pty->expect("not set up");
  EXPECT_EQ(pty->wait_exit(), 3);
  EXPECT_TRUE(pty->in_cooked_mode());
}

TEST_F(WizardPty, MenuSetUpRunsTheWizard) {
  auto pty = start({"menu"});
  answer_choice(*pty, "What would you like to do with container isolation\\?", Keys::kEnter);
  answer_choice(*pty, "Choose container isolation mode:", Keys::kEnter);
  answer_choice(*pty, "Sync your Claude skills to the container\\?", Keys::kEnter);
  pty->expect("configured");
  EXPECT_EQ(pty->wait_exit(), 0);
  EXPECT_EQ(env.config_json()["mode"], "playground");
}

}  // namespace
}  // namespace cc::test
