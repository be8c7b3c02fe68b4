// The Claude Code plugin (issue 13): its manifests agree with the CLI, the real `claude`
// validates them without warnings, and a marketplace install from a copy of the checkout
// leaves the plugin enabled. Every `claude` run has its own HOME and a bounded time.
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/messages_stand_in.hpp"
#include "support/required_feature.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/tool_path.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cc::test {
namespace {

const fs::path kSource = CC_SOURCE_DIR;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json read_json(const fs::path& path) {
  const std::string text = read_text(path);
  EXPECT_FALSE(text.empty()) << path << " is missing or empty";
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// The frontmatter `name:` line of a SKILL.md, which becomes the part after the colon of
// /<plugin>:<name>.
std::string skill_name(const fs::path& skill) {
  std::istringstream in(read_text(skill));
  std::string line;
  std::getline(in, line);
  if (line != "---") return "";
  while (std::getline(in, line) && line != "---")
    if (line.rfind("name: ", 0) == 0) return line.substr(6);
  return "";
}

TEST(PluginManifest, VersionIsTheCliVersion) {
  const json plugin = read_json(kSource / ".claude-plugin/plugin.json");
  ASSERT_TRUE(plugin.is_object());
  const auto result = run_cli({"--version"}, {.timeout_seconds = 30});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "claude-container " + plugin.value("version", std::string("?")) + "\n");
}

TEST(PluginManifest, PluginJsonHasItsFields) {
  const json plugin = read_json(kSource / ".claude-plugin/plugin.json");
  ASSERT_TRUE(plugin.is_object());
  EXPECT_EQ(plugin.value("name", ""), "container-isolation");
  EXPECT_FALSE(plugin.value("description", "").empty());
  ASSERT_TRUE(plugin.contains("author") && plugin["author"].is_object());
  EXPECT_FALSE(plugin["author"].value("name", "").empty());
}

TEST(PluginManifest, MarketplaceListsThePluginAtTheRoot) {
  const json plugin = read_json(kSource / ".claude-plugin/plugin.json");
  const json market = read_json(kSource / ".claude-plugin/marketplace.json");
  ASSERT_TRUE(plugin.is_object());
  ASSERT_TRUE(market.is_object());
  EXPECT_EQ(market.value("name", ""), "claude-container");
  ASSERT_TRUE(market.contains("owner") && market["owner"].is_object());
  EXPECT_FALSE(market["owner"].value("name", "").empty());
  ASSERT_TRUE(market.contains("plugins") && market["plugins"].is_array());
  ASSERT_EQ(market["plugins"].size(), 1U);
  const json& entry = market["plugins"][0];
  EXPECT_EQ(entry.value("name", ""), "container-isolation");
  EXPECT_EQ(entry.value("source", ""), "./");
  EXPECT_EQ(entry.value("version", ""), plugin.value("version", "?"));
}

TEST(PluginManifest, SkillsGiveTheCommandAndTheOffer) {
  EXPECT_EQ(skill_name(kSource / "skills/container/SKILL.md"), "container");
  EXPECT_EQ(skill_name(kSource / "skills/container-isolation/SKILL.md"), "container-isolation");
}

class PluginWithClaude : public ::testing::Test {
 protected:
  void SetUp() override {
    claude_ = find_system_tool("claude");
    CC_SKIP_UNLESS_FEATURE(claude_.has_value(), "claude-code") << "Claude Code (`claude`) is not installed";
    fs::create_directories(home());
    fs::create_directories(tmp());
  }
  fs::path home() const { return root_ / "home"; }
  fs::path tmp() const { return root_ / "tmp"; }
  CommandResult claude(const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& extra_env = {}) const {
    std::vector<std::string> argv = {claude_->string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::map<std::string, std::string> env = {{"PATH", tools_.dir()},
                                              {"HOME", home().string()},
                                              {"CLAUDE_CONFIG_DIR", (home() / ".claude").string()},
                                              {"CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL", "1"},
                                              {"DISABLE_AUTOUPDATER", "1"},
                                              {"NO_COLOR", "1"},
                                              // Claude Code keeps scratch files in $TMPDIR/claude-<uid>;
                                              // without this it leaves /tmp/claude-0 behind.
                                              {"TMPDIR", tmp().string()}};
    for (const auto& [key, value] : extra_env) env[key] = value;
    return run_command(argv, {.cwd = root_.path(), .env = env, .replace_env = true, .timeout_seconds = 90});
  }
  void install_from_copy() const {
    const fs::path checkout = copy_of_checkout();
    const auto added = claude({"plugin", "marketplace", "add", checkout.string()});
    ASSERT_EQ(added.exit_code, 0) << added.out << added.err;
    const auto installed = claude({"plugin", "install", "container-isolation@claude-container"});
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  }
  // The plugin's files only (what a user's clone ships for Claude Code), outside the build tree.
  fs::path copy_of_checkout() const {
    fs::path dir = root_ / "checkout";
    fs::create_directories(dir);
    for (const char* part : {".claude-plugin", "skills"})
      fs::copy(kSource / part, dir / part, fs::copy_options::recursive);
    return dir;
  }

  TempDir root_{"cc-plugin"};
  ToolPath tools_{{"git"}};
  std::optional<fs::path> claude_;
};

TEST_F(PluginWithClaude, ValidatesWithoutWarnings) {
  for (const fs::path& target : {kSource, kSource / ".claude-plugin/plugin.json"}) {
    const auto result = claude({"plugin", "validate", target.string()});
    EXPECT_EQ(result.exit_code, 0) << target << "\n" << result.out << result.err;
    EXPECT_NE(result.out.find("Validation passed"), std::string::npos) << result.out;
    EXPECT_EQ((result.out + result.err).find("arning"), std::string::npos) << result.out << result.err;
  }
}

TEST_F(PluginWithClaude, InstallsFromTheMarketplaceEnabled) {
  ASSERT_NO_FATAL_FAILURE(install_from_copy());
  const auto listed = claude({"plugin", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.out << listed.err;
  const json plugins = json::parse(listed.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(plugins.is_array()) << listed.out;
  bool found = false;
  for (const auto& plugin : plugins) {
    if (plugin.value("id", "") != "container-isolation@claude-container") continue;
    found = true;
    EXPECT_TRUE(plugin.value("enabled", false)) << plugin.dump();
    EXPECT_EQ(plugin.value("version", ""), read_json(kSource / ".claude-plugin/plugin.json").value("version", "?"));
    // The install copied the command's skill, so /container-isolation:container exists.
    EXPECT_TRUE(fs::exists(fs::path(plugin.value("installPath", "")) / "skills/container/SKILL.md")) << plugin.dump();
  }
  EXPECT_TRUE(found) << listed.out;
}

// The installed command really loads: its instructions, with the argument, reach the model
// (a loopback stand-in of the Messages API records what Claude Code sends).
TEST_F(PluginWithClaude, CommandInstructionsReachTheModel) {
  ASSERT_NO_FATAL_FAILURE(install_from_copy());
  MessagesStandIn api;
  api.start();
  const auto result = claude({"-p", "/container-isolation:container status"},
                             {{"ANTHROPIC_BASE_URL", "https://127.0.0.1:" + std::to_string(api.port())},
                              {"ANTHROPIC_API_KEY", "sk-ant-test-plugin"},
                              {"NODE_EXTRA_CA_CERTS", api.ca_file().string()}});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  bool carried = false;
  for (const auto& request : api.requests()) {
    if (request.path != "/v1/messages") continue;
    if (request.body_start.find("# claude-container menu") != std::string::npos &&
        request.body_start.find("Never run an interactive command through") != std::string::npos &&
        request.body_start.find("The request was: `status`") != std::string::npos)
      carried = true;
  }
  EXPECT_TRUE(carried) << "no Messages request carried the command's instructions; " << api.requests().size()
                       << " requests\n" << result.out << result.err;
}

}  // namespace
}  // namespace cc::test
