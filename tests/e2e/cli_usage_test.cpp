// The CLI contract (DESIGN.md section 2) seen from outside: every command with --help, usage
// errors, exit statuses, project discovery and --json output.
#include <gtest/gtest.h>

#include "cli_test_env.hpp"

namespace cc::test {
namespace {

class CliUsage : public ::testing::Test {
 protected:
  CliTestEnv env;
};

TEST_F(CliUsage, EveryCommandHasHelp) {
  std::vector<std::string> all = kContractCommands;
  all.insert(all.end(), kDocsCommands.begin(), kDocsCommands.end());
  for (const auto& command : all) {
    auto result = env.run({command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command << ": " << result.err;
    EXPECT_NE(result.out.find("Usage: claude-container " + command), std::string::npos) << command << ":\n" << result.out;
    EXPECT_EQ(result.err, "") << command;
  }
}

TEST_F(CliUsage, TopLevelHelpListsEveryCommandAndGlobalOption) {
  auto result = env.run({"--help"});
  ASSERT_EQ(result.exit_code, 0);
  for (const auto& command : kContractCommands) {
    EXPECT_NE(result.out.find("\n  " + command + " "), std::string::npos) << command;
  }
  for (const char* option : {"--project", "--json", "--quiet", "--version"}) {
    EXPECT_NE(result.out.find(option), std::string::npos) << option;
  }
}

TEST_F(CliUsage, HelpCommandShowsTheSameUsageAsDashDashHelp) {
  auto via_help = env.run({"help", "destroy"});
  auto via_flag = env.run({"destroy", "--help"});
  ASSERT_EQ(via_help.exit_code, 0);
  EXPECT_EQ(via_help.out, via_flag.out);
  EXPECT_NE(via_help.out.find("--purge"), std::string::npos);

  auto unknown = env.run({"help", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("frobnicate"), std::string::npos);
}

TEST_F(CliUsage, VersionPrintsTheVersion) {
  auto result = env.run({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, std::string("claude-container ") + CC_VERSION + "\n");
}

TEST_F(CliUsage, UnknownCommandIsOneLineWithExit2) {
  auto result = env.run({"frobnicate"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(line_count(result.err), 1u) << result.err;
  EXPECT_NE(result.err.find("claude-container: unknown command 'frobnicate'"), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(CliUsage, UnknownFlagIsOneLineWithExit2) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--bogus"}, {"status", "--bogus"}, {"init", "--mode", "playground", "--bogus"}}) {
    auto result = env.run(args);
    EXPECT_EQ(result.exit_code, 2) << args.back();
    EXPECT_EQ(line_count(result.err), 1u) << result.err;
    EXPECT_NE(result.err.find("unknown option '--bogus'"), std::string::npos) << result.err;
  }
  EXPECT_FALSE(env.exists(".claude-container"));
}

TEST_F(CliUsage, BadUsageExits2) {
  EXPECT_EQ(env.run({}).exit_code, 2);                                   // no command
  EXPECT_EQ(env.run({"allow"}).exit_code, 2);                            // missing DOMAIN
  EXPECT_EQ(env.run({"stop", "--timeout", "soon"}).exit_code, 2);        // not a number
  EXPECT_EQ(env.run({"init", "--mode", "sandbox"}).exit_code, 2);        // not a mode
  EXPECT_EQ(env.run({"completion", "fish"}).exit_code, 2);               // not a shell we generate
  auto exec = env.run({"exec"});
  EXPECT_EQ(exec.exit_code, 2);
  EXPECT_NE(exec.err.find("exec [--] CMD"), std::string::npos) << exec.err;
}

TEST_F(CliUsage, MenuWithoutATerminalNamesTheCommandsToUse) {
  auto result = env.run({"menu"}, "1\n");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(line_count(result.err), 1u) << result.err;
  EXPECT_NE(result.err.find("terminal"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("init, status, shell"), std::string::npos) << result.err;
}

TEST_F(CliUsage, CommandsOutsideAProjectExit3AndSayHowToSetUp) {
  const std::vector<std::vector<std::string>> commands = {
      {"start"},          {"shell"},         {"exec", "--", "true"}, {"run", "--", "true"}, {"stop"},
      {"restart"},        {"destroy", "--yes"}, {"logs"},            {"allow", "example.com"},
      {"deny", "example.com"}, {"diff"},     {"apply"},              {"discard", "--yes"},  {"claude"},
      {"sync-skills"}};
  for (const auto& args : commands) {
    auto result = env.run(args);
    EXPECT_EQ(result.exit_code, 3) << args.front() << ": " << result.err;
    EXPECT_EQ(line_count(result.err), 1u) << args.front() << ": " << result.err;
    EXPECT_NE(result.err.find("claude-container init"), std::string::npos) << args.front() << ": " << result.err;
  }
}

TEST_F(CliUsage, StatusOutsideAProjectSaysNotSetUp) {
  auto text = env.run({"status"});
  EXPECT_EQ(text.exit_code, 3);
  EXPECT_NE(text.out.find("not set up"), std::string::npos) << text.out;

  auto json = env.run({"status", "--json"});
  EXPECT_EQ(json.exit_code, 3);
  auto object = nlohmann::json::parse(json.out);
  EXPECT_EQ(object["state"], "not-set-up");
  EXPECT_TRUE(object["pid"].is_null());
}

TEST_F(CliUsage, ProjectIsFoundFromASubdirectoryAndByFlag) {
  ASSERT_EQ(env.run({"init", "--mode", "playground"}).exit_code, 0);
  auto deep = env.project() / "src" / "lib";
  std::filesystem::create_directories(deep);
  auto from_subdir = env.run_in(deep, {"status", "--json"});
  ASSERT_EQ(from_subdir.exit_code, 0) << from_subdir.err;
  EXPECT_EQ(nlohmann::json::parse(from_subdir.out)["name"], "myapp-playground");

  auto by_flag = env.run_in(env.root(), {"--project", env.project().string(), "status", "--json"});
  ASSERT_EQ(by_flag.exit_code, 0) << by_flag.err;
  EXPECT_EQ(nlohmann::json::parse(by_flag.out)["project"], env.project().string());

  // The global option is accepted after the command too.
  auto after = env.run_in(env.root(), {"status", "--project", env.project().string(), "--json"});
  EXPECT_EQ(after.exit_code, 0) << after.err;

  auto missing = env.run({"--project", (env.root() / "nowhere").string(), "status"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nowhere"), std::string::npos);
}

TEST_F(CliUsage, JsonOutputsAreOneJsonObject) {
  auto init = env.run({"--json", "init", "--mode", "playground"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto init_object = nlohmann::json::parse(init.out);
  EXPECT_EQ(init_object["config"]["mode"], "playground");
  EXPECT_FALSE(init_object["written"].empty());

  auto status = env.run({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto object = nlohmann::json::parse(status.out);
  for (const char* key : {"name", "state", "engine", "mode", "network", "storage", "pid", "supervisor_pid",
                          "started_at", "mounts", "limits", "uptime_seconds", "denials"}) {
    EXPECT_TRUE(object.contains(key)) << key;
  }
  EXPECT_EQ(object["network"]["policy"], "isolated");
  EXPECT_EQ(object["storage"]["type"], "volume");

  auto allow = env.run({"--json", "allow", "example.com"});
  ASSERT_EQ(allow.exit_code, 0) << allow.err;
  EXPECT_EQ(nlohmann::json::parse(allow.out)["allow"], nlohmann::json::array({"example.com"}));

  auto doctor = env.run({"--json", "doctor"});
  EXPECT_TRUE(doctor.exit_code == 0 || doctor.exit_code == 1) << doctor.err;
  EXPECT_TRUE(nlohmann::json::parse(doctor.out)["checks"].is_array());

  // A failing command under --json still prints one object, with the error.
  auto failing = env.run({"--json", "stop"});
  EXPECT_EQ(failing.exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(failing.out)["exit_code"], 3);
}

TEST_F(CliUsage, QuietPrintsNothingButErrors) {
  auto init = env.run({"--quiet", "init", "--mode", "playground"});
  EXPECT_EQ(init.exit_code, 0);
  EXPECT_EQ(init.out, "");
  EXPECT_EQ(init.err, "");
  auto failing = env.run({"--quiet", "allow", "*.com"});
  EXPECT_EQ(failing.exit_code, 2);
  EXPECT_NE(failing.err, "");
}

}  // namespace
}  // namespace cc::test
