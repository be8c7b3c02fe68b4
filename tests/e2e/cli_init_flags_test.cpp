// `init` without a terminal: every answer as a flag, for each mode, and re-running it.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "cli_test_env.hpp"

namespace cc::test {
namespace {

class CliInitFlags : public ::testing::Test {
 protected:
  CliTestEnv env;

  void expect_project_files() {
    for (const char* path : {".claude-container/config.json", ".claude-container/manifest.json",
                             ".claude-container/CONTAINER-SPEC.md", ".claude-container/Containerfile",
                             ".claude-container/mcp-config.json", "scripts/container", "scripts/setup-mcp.sh",
                             "scripts/sync-skills.sh", ".gitignore"}) {
      EXPECT_TRUE(env.exists(path)) << path;
    }
    struct stat info {};
    ASSERT_EQ(::stat((env.project() / "scripts/container").c_str(), &info), 0);
    EXPECT_TRUE(info.st_mode & S_IXUSR);
  }
};

TEST_F(CliInitFlags, WithoutATerminalAndWithoutModeItFailsNamingTheFlags) {
  auto result = env.run({"init"}, "\n");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(line_count(result.err), 1u) << result.err;
  for (const char* flag : {"--mode", "--network", "--storage", "--skills", "--yes"}) {
    EXPECT_NE(result.err.find(flag), std::string::npos) << flag << " missing from: " << result.err;
  }
  EXPECT_FALSE(env.exists(".claude-container"));
  EXPECT_FALSE(env.exists("scripts"));
}

TEST_F(CliInitFlags, PlaygroundFromFlags) {
  auto result = env.run({"init", "--mode", "playground", "--no-skills"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  expect_project_files();
  auto config = env.config_json();
  EXPECT_EQ(config["mode"], "playground");
  EXPECT_EQ(config["name"], "myapp-playground");
  EXPECT_EQ(config["network"]["policy"], "isolated");
  EXPECT_EQ(config["storage"]["type"], "volume");
  EXPECT_EQ(config["credentials"]["api"], "gateway");
  EXPECT_EQ(config["skills"]["sync"], false);
  // The summary: mode, name, the files written and the next steps.
  EXPECT_NE(result.out.find("Mode:     playground"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("myapp-playground"), std::string::npos);
  EXPECT_NE(result.out.find("scripts/container start"), std::string::npos);
  EXPECT_NE(result.out.find("scripts/container shell"), std::string::npos);
  EXPECT_NE(result.out.find(".claude-container/config.json"), std::string::npos);
}

TEST_F(CliInitFlags, DevelopmentFromFlags) {
  auto result = env.run({"init", "--mode", "development", "--skills"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  expect_project_files();
  auto config = env.config_json();
  EXPECT_EQ(config["mode"], "development");
  EXPECT_EQ(config["name"], "myapp-development");
  EXPECT_EQ(config["network"]["policy"], "full");
  EXPECT_EQ(config["storage"]["type"], "bind");
  EXPECT_EQ(config["credentials"]["api"], "shared");
  EXPECT_EQ(config["skills"]["sync"], true);
}

TEST_F(CliInitFlags, CustomFromFlagsSetsEveryAnswer) {
  auto result = env.run({"init", "--mode", "custom", "--network", "development", "--storage", "hybrid",
                         "--credentials", "separate", "--no-skills", "--mcp", "github,postgres", "--mcp-placement",
                         "both", "--git-name", "Ada Lovelace", "--git-email", "ada@example.com", "--git-credentials",
                         "ssh", "--git-host", "git.example.com:8443", "--env", "FOO=bar", "--env", "GH=${GITHUB_TOKEN}", "--env-file", ".env", "--engine",
                         "native", "--image", "debian", "--cpus", "1.5", "--memory", "512m", "--name", "my-box"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  expect_project_files();
  auto config = env.config_json();
  EXPECT_EQ(config["mode"], "custom");
  EXPECT_EQ(config["name"], "my-box");
  EXPECT_EQ(config["network"]["policy"], "development");
  EXPECT_EQ(config["storage"]["type"], "hybrid");
  EXPECT_EQ(config["credentials"]["api"], "separate");
  EXPECT_EQ(config["skills"]["sync"], false);
  EXPECT_EQ(config["mcp"]["servers"], nlohmann::json::array({"github", "postgres"}));
  EXPECT_EQ(config["mcp"]["placement"], "both");
  EXPECT_EQ(config["git"]["name"], "Ada Lovelace");
  EXPECT_EQ(config["git"]["email"], "ada@example.com");
  EXPECT_EQ(config["git"]["credentials"], "ssh");
  EXPECT_EQ(config["git"]["host"], "git.example.com:8443");
  EXPECT_EQ(config["env"]["FOO"], "bar");
  EXPECT_EQ(config["env"]["GH"], "${GITHUB_TOKEN}");
  // The chosen MCP servers' secrets are passed as references to the host's variables.
  EXPECT_EQ(config["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"], "${GITHUB_PERSONAL_ACCESS_TOKEN}");
  EXPECT_EQ(config["env"]["POSTGRES_URL"], "${POSTGRES_URL}");
  EXPECT_NE(result.out.find("Set POSTGRES_URL in your environment"), std::string::npos) << result.out;
  EXPECT_EQ(config["env_file"], ".env");
  EXPECT_EQ(config["engine"], "native");
  EXPECT_EQ(config["image"]["base"], "debian");
  EXPECT_EQ(config["resources"]["cpus"], 1.5);
  EXPECT_EQ(config["resources"]["memory"], "512m");
}

TEST_F(CliInitFlags, ChosenMcpServersOpenTheirHostsAndPrintTheHostCommands) {
  auto result = env.run({"init", "--mode", "custom", "--network", "isolated", "--mcp", "brave,github",
                         "--mcp-placement", "both"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto config = env.config_json();
  EXPECT_EQ(config["network"]["allow"],
            nlohmann::json::array({"registry.npmjs.org:443", "api.search.brave.com:443", "api.githubcopilot.com:443"}));
  EXPECT_NE(result.out.find("Allowed registry.npmjs.org:443, api.search.brave.com:443, api.githubcopilot.com:443 in "
                            "network.allow"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("`start` registers the MCP servers inside"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("claude mcp add-json -s local github '{\"type\":\"http\""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"), std::string::npos) << result.out;
}

TEST_F(CliInitFlags, HostPlacedMcpServersGiveTheContainerNoHostsAndNoSecrets) {
  auto result = env.run({"init", "--mode", "custom", "--network", "isolated", "--mcp", "brave",
                         "--mcp-placement", "host"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto config = env.config_json();
  EXPECT_EQ(config["network"]["allow"], nlohmann::json::array());
  EXPECT_FALSE(config["env"].contains("BRAVE_API_KEY")) << config.dump();
  EXPECT_NE(result.out.find("claude mcp add-json -s local brave-search"), std::string::npos) << result.out;
}

TEST_F(CliInitFlags, CustomTakesTheHostGitIdentityAsDefault) {
  env.write_git_identity("Grace Hopper", "grace@example.com");
  ASSERT_EQ(env.run({"init", "--mode", "custom"}).exit_code, 0);
  auto config = env.config_json();
  EXPECT_EQ(config["git"]["name"], "Grace Hopper");
  EXPECT_EQ(config["git"]["email"], "grace@example.com");
}

TEST_F(CliInitFlags, YesAcceptsTheDefaults) {
  auto result = env.run({"init", "--yes"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(env.config_json()["mode"], "playground");
  EXPECT_EQ(env.config_json()["skills"]["sync"], true);
}

TEST_F(CliInitFlags, PresetModesRefuseSettingsTheyFix) {
  auto result = env.run({"init", "--mode", "playground", "--network", "full"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--mode custom"), std::string::npos) << result.err;
  EXPECT_FALSE(env.exists(".claude-container"));
  // Naming the preset's own value is fine.
  EXPECT_EQ(env.run({"init", "--mode", "development", "--storage", "bind"}).exit_code, 0);
}

TEST_F(CliInitFlags, InvalidAnswersExit2AndWriteNothing) {
  const std::vector<std::vector<std::string>> bad = {
      {"--network", "everything"},   {"--memory", "lots"},       {"--cpus", "0"},
      {"--name", "Bad Name"},        {"--env", "1X=3"},          {"--env", "NOEQUALS"},
      {"--mcp", "filesystem,ftp"},   {"--image", "gentoo"},      {"--engine", "vmware"},
      {"--git-host", "bad host"},    {"--git-host", "*.example.com"},
      {"--env", "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}};
  for (auto args : bad) {
    std::vector<std::string> full = {"init", "--mode", "custom"};
    full.insert(full.end(), args.begin(), args.end());
    auto result = env.run(full);
    EXPECT_EQ(result.exit_code, 2) << args[0] << " " << args[1] << ": " << result.err;
    EXPECT_EQ(line_count(result.err), 1u) << result.err;
    EXPECT_FALSE(env.exists(".claude-container")) << args[0] << " " << args[1];
  }
}

TEST_F(CliInitFlags, SecretsAreRefusedAndReferencesSuggested) {
  auto result = env.run({"init", "--mode", "custom", "--env", "API_TOKEN=hunter2"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("API_TOKEN=${API_TOKEN}"), std::string::npos) << result.err;
}

TEST_F(CliInitFlags, RerunKeepsAHandModifiedFileUnlessForced) {
  ASSERT_EQ(env.run({"init", "--mode", "playground"}).exit_code, 0);
  const std::string original = env.read("scripts/container");
  {
    std::ofstream out(env.project() / "scripts/container", std::ios::app);
    out << "# my own change\n";
  }
  auto rerun = env.run({"init", "--mode", "playground"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(env.read("scripts/container").find("# my own change"), std::string::npos);
  EXPECT_NE(rerun.out.find("Kept because you changed them"), std::string::npos) << rerun.out;
  EXPECT_NE(rerun.out.find("scripts/container"), std::string::npos);
  EXPECT_NE(rerun.out.find("reconfigured"), std::string::npos);

  auto forced = env.run({"init", "--mode", "playground", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(env.read("scripts/container"), original);
}

TEST_F(CliInitFlags, RerunKeepsCurrentSettingsAsDefaults) {
  ASSERT_EQ(env.run({"init", "--mode", "custom", "--network", "none", "--name", "box", "--memory", "2g"}).exit_code, 0);
  auto rerun = env.run({"init", "--yes"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  auto config = env.config_json();
  EXPECT_EQ(config["mode"], "custom");
  EXPECT_EQ(config["network"]["policy"], "none");
  EXPECT_EQ(config["name"], "box");
  EXPECT_EQ(config["resources"]["memory"], "2g");

  // Switching to a preset applies the preset's fixed settings and keeps the name.
  ASSERT_EQ(env.run({"init", "--mode", "development"}).exit_code, 0);
  config = env.config_json();
  EXPECT_EQ(config["network"]["policy"], "full");
  EXPECT_EQ(config["name"], "box");
}

TEST_F(CliInitFlags, BrokenConfigStopsInitUnlessForced) {
  std::filesystem::create_directories(env.project() / ".claude-container");
  std::ofstream(env.project() / ".claude-container/config.json") << "{ not json";
  auto result = env.run({"init", "--yes"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--force"), std::string::npos) << result.err;
  EXPECT_EQ(env.read(".claude-container/config.json"), "{ not json");

  auto forced = env.run({"init", "--yes", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(env.config_json()["mode"], "playground");
}

}  // namespace
}  // namespace cc::test
