// The generated scripts: shellcheck-clean, work from any directory, fail clearly when a
// program they need is missing, and setup-mcp.sh registers exactly the chosen servers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "project/container_layout.hpp"
#include "project/project_files.hpp"
#include "project_test_support.hpp"
#include "support/required_feature.hpp"
#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/tool_path.hpp"
#include "util/file_io.hpp"

namespace cc::project {
namespace {

namespace fs = std::filesystem;
using test::CommandOptions;
using test::run_command;

std::optional<std::string> find_program(const std::string& name) {
  if (auto found = test::find_system_tool(name)) return found->string();
  return std::nullopt;
}

// The system programs the generated scripts use besides shell built-ins, and nothing else:
// the host's whole /usr/bin would let a system-wide `claude` or `npm` run for real.
std::string system_tools() {
  static const test::ToolPath tools({"dirname", "printenv"});
  return tools.dir();
}

// PATH with the stand-ins in `fakes` (if any) first, then exactly the tools above.
std::string path_with(const fs::path& fakes) { return fakes.string() + ":" + system_tools(); }

// A directory of stand-in programs that record how they were called.
class FakeBin {
 public:
  FakeBin() { fs::create_directories(dir_.path() / "bin"); }
  const fs::path& root() const { return dir_.path(); }
  fs::path bin() const { return dir_.path() / "bin"; }
  fs::path log() const { return dir_.path() / "calls.log"; }
  // A program that appends "<name> <args, one per line>" to the log and exits with `status`.
  void add(const std::string& name, int status = 0) {
    write_file_atomic(bin() / name,
                      "#!/bin/sh\n{ echo \"" + name + "\"; for a in \"$@\"; do echo \"$a\"; done; echo ---; } >> '" +
                          log().string() + "'\nexit " + std::to_string(status) + "\n",
                      0755);
  }
  std::string calls() const { return read_file_if_exists(log()).value_or(""); }
  void clear() const { fs::remove(log()); }

 private:
  test::TempDir dir_;
};

// Exactly this PATH and a HOME that does not exist, so a script that writes there fails.
CommandOptions options_with_path(const std::string& path, const fs::path& cwd) {
  CommandOptions options;
  options.cwd = cwd;
  options.env = {{"PATH", path}, {"HOME", "/nonexistent-home"}};
  options.replace_env = true;
  return options;
}

class ProjectScripts : public ::testing::Test {
 protected:
  void SetUp() override {
    write_project_files(project_.path(), config_, {.now = test::fixed_time()});
    fs::create_directories(project_ / "src" / "deep");
  }
  config::Config config_ = config::preset(config::Mode::playground, "demo-playground");
  test::TempDir project_;
};

TEST(ProjectScriptsLint, EveryGeneratedScriptPassesShellcheck) {
  const auto shellcheck = find_program("shellcheck");
  CC_SKIP_UNLESS_FEATURE(shellcheck.has_value(), "shellcheck") << "shellcheck is not installed";
  int checked = 0;
  for (const auto& [name, config] : test::golden_configs()) {
    test::TempDir dir;
    for (const auto& file : render_project_files(config)) {
      if (file.mode != 0755) continue;
      const fs::path path = dir / fs::path(file.path).filename();
      write_file_atomic(path, file.content, 0755);
      const auto result = run_command({*shellcheck, "--norc", path.string()});
      EXPECT_EQ(result.exit_code, 0) << name << " " << file.path << ":\n" << result.out << result.err;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 15);
}

TEST(ProjectScriptsLint, ShellcheckCatchesABrokenScript) {
  // Guards the test above: a shellcheck that passes everything would prove nothing.
  const auto shellcheck = find_program("shellcheck");
  CC_SKIP_UNLESS_FEATURE(shellcheck.has_value(), "shellcheck") << "shellcheck is not installed";
  test::TempDir dir;
  write_file_atomic(dir / "bad.sh", "#!/bin/sh\nrm -rf $1/*\n", 0755);
  EXPECT_NE(run_command({*shellcheck, "--norc", (dir / "bad.sh").string()}).exit_code, 0);
}

TEST_F(ProjectScripts, ContainerScriptFindsTheProjectFromAnyDirectory) {
  FakeBin fake;
  fake.add("claude-container");
  const std::string path = path_with(fake.bin());
  const std::string script = (project_ / kContainerScript).string();
  for (const fs::path& cwd : {fs::path("/"), project_ / "src" / "deep", project_.path()}) {
    const auto result = run_command({script, "status", "--json"}, options_with_path(path, cwd));
    EXPECT_EQ(result.exit_code, 0) << result.err;
  }
  const std::string root = fs::canonical(project_.path()).string();
  const std::string one_call = "claude-container\n--project\n" + root + "\nstatus\n--json\n---\n";
  EXPECT_EQ(fake.calls(), one_call + one_call + one_call);
}

TEST_F(ProjectScripts, ContainerScriptPassesTheExitStatusThrough) {
  FakeBin fake;
  fake.add("claude-container", 3);
  const auto result = run_command({(project_ / kContainerScript).string(), "shell"},
                                  options_with_path(path_with(fake.bin()), "/"));
  EXPECT_EQ(result.exit_code, 3);
}

TEST_F(ProjectScripts, ContainerScriptExplainsAMissingBinary) {
  test::TempDir empty;
  const auto result =
      run_command({(project_ / kContainerScript).string(), "start"}, options_with_path(path_with(empty.path()), "/"));
  EXPECT_EQ(result.exit_code, 127);
  EXPECT_NE(result.err.find("cannot run 'claude-container': it is not installed or not on PATH"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("CLAUDE_CONTAINER_BIN"), std::string::npos) << result.err;
}

TEST_F(ProjectScripts, ContainerScriptHonoursClaudeContainerBin) {
  FakeBin fake;
  fake.add("my-build");
  auto options = options_with_path(system_tools(), "/");
  options.env["CLAUDE_CONTAINER_BIN"] = (fake.bin() / "my-build").string();
  const auto result = run_command({(project_ / kContainerScript).string(), "stop"}, options);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(fake.calls().find("my-build\n--project\n"), std::string::npos) << fake.calls();
}

TEST_F(ProjectScripts, ContainerScriptRunsTheRealBinary) {
  // The real claude-container answers --help through the wrapper (CMake builds it first).
  ASSERT_TRUE(fs::exists(CC_BINARY)) << CC_BINARY;
  auto options = options_with_path(system_tools(), "/");
  options.env["CLAUDE_CONTAINER_BIN"] = CC_BINARY;
  const auto result = run_command({(project_ / kContainerScript).string(), "--help"}, options);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(result.out.empty());
}

TEST_F(ProjectScripts, SyncSkillsCallsSyncSkillsForThisProject) {
  FakeBin fake;
  fake.add("claude-container");
  const auto result = run_command({(project_ / kSyncSkillsScript).string()},
                                  options_with_path(path_with(fake.bin()), project_ / "src"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(fake.calls(), "claude-container\n--project\n" + fs::canonical(project_.path()).string() + "\nsync-skills\n---\n");

  test::TempDir empty;
  const auto missing =
      run_command({(project_ / kSyncSkillsScript).string()}, options_with_path(path_with(empty.path()), "/"));
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("not installed"), std::string::npos) << missing.err;
}

TEST_F(ProjectScripts, SetupMcpWithoutServersSaysThereIsNothingToDo) {
  const auto result = run_command({(project_ / kSetupMcpScript).string()}, options_with_path(system_tools(), "/"));
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("no MCP servers are configured"), std::string::npos) << result.out;
}

class ProjectSetupMcp : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.mcp.servers = {config::McpServer::filesystem, config::McpServer::brave, config::McpServer::github,
                           config::McpServer::postgres};
    write();
    // A stand-in that records its arguments and, like Claude Code, refuses to add a name the
    // scope holds already and to remove one it does not.
    write_file_atomic(fake_.bin() / "claude",
                      "#!/bin/sh\n{ echo claude; for a in \"$@\"; do echo \"$a\"; done; echo ---; } >> '" +
                          fake_.log().string() + "'\nentry='" + (fake_.root() / "entries").string() +
                          "'/\"$4-$5\"\ncase \"$2\" in\n  add-json) [ ! -e \"$entry\" ] && : > \"$entry\" ;;\n"
                          "  remove) [ -e \"$entry\" ] && /bin/rm \"$entry\" ;;\nesac\n",
                      0755);
    fs::create_directories(fake_.root() / "entries");
  }
  void write() { write_project_files(project_.path(), config_, {.force = true, .now = test::fixed_time()}); }
  test::CommandResult run(const std::map<std::string, std::string>& extra_env = {}) {
    auto options = options_with_path(path_with(fake_.bin()), "/");
    for (const auto& [k, v] : extra_env) options.env[k] = v;
    return run_command({(project_ / kSetupMcpScript).string()}, options);
  }
  // The calls for one entry: a first add, or (when it is there already) add, remove, add.
  static std::string add(const std::string& scope, const std::string& name, const std::string& json,
                         bool replacing = false) {
    std::string add_call = "claude\nmcp\nadd-json\n-s\n" + scope + "\n" + name + "\n" + json + "\n---\n";
    if (!replacing) return add_call;
    return add_call + "claude\nmcp\nremove\n-s\n" + scope + "\n" + name + "\n---\n" + add_call;
  }
  std::string all_entries(const std::string& scope, const std::string& workspace, bool replacing = false) const {
    auto add = [replacing](const std::string& s, const std::string& n, const std::string& j) {
      return ProjectSetupMcp::add(s, n, j, replacing);
    };
    return add(scope, "filesystem",
               R"({"type":"stdio","command":"npx","args":["-y","@modelcontextprotocol/server-filesystem@2026.8.31",")" +
                   workspace + R"("]})") +
           add(scope, "brave-search",
               R"({"type":"stdio","command":"npx","args":["-y","@brave/brave-search-mcp-server@2.1.4","--transport","stdio"],"env":{"BRAVE_API_KEY":"${BRAVE_API_KEY}"}})") +
           add(scope, "github",
               R"({"type":"http","url":"https://api.githubcopilot.com/mcp/","headers":{"Authorization":"Bearer ${GITHUB_PERSONAL_ACCESS_TOKEN}"}})") +
           add(scope, "postgres",
               R"({"type":"stdio","command":"npx","args":["-y","@bytebase/dbhub@1.4.0","--dsn","${POSTGRES_URL}"]})");
  }
  config::Config config_ = config::preset(config::Mode::custom, "demo-custom");
  test::TempDir project_;
  FakeBin fake_;
};

const std::map<std::string, std::string> kSecrets = {
    {"BRAVE_API_KEY", "k"}, {"GITHUB_PERSONAL_ACCESS_TOKEN", "t"}, {"POSTGRES_URL", "u"}};

TEST_F(ProjectSetupMcp, InsideRegistersEachChosenServerAtUserScope) {
  auto env = kSecrets;
  env["CLAUDE_CONTAINER"] = "demo-custom";
  const auto result = run(env);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_NE(result.out.find("Registered MCP server github (user scope)"), std::string::npos) << result.out;
  // Inside, the entries are registered as written: /workspace is the project there.
  EXPECT_EQ(fake_.calls(), all_entries("user", "/workspace"));
  // Again: each entry is replaced.
  fake_.clear();
  ASSERT_EQ(run(env).exit_code, 0);
  EXPECT_EQ(fake_.calls(), all_entries("user", "/workspace", true));
}

TEST_F(ProjectSetupMcp, IfChangedSkipsWhatWasRegisteredBefore) {
  const test::TempDir config_dir;
  const std::map<std::string, std::string> env = {{"CLAUDE_CONTAINER", "demo-custom"},
                                                  {"CLAUDE_CONFIG_DIR", config_dir.path().string()}};
  auto run_if_changed = [&] {
    auto options = options_with_path(path_with(fake_.bin()), "/");
    for (const auto& [k, v] : env) options.env[k] = v;
    return run_command({(project_ / kSetupMcpScript).string(), "--if-changed"}, options);
  };
  ASSERT_EQ(run_if_changed().exit_code, 0);
  EXPECT_EQ(fake_.calls(), all_entries("user", "/workspace"));
  fake_.clear();
  ASSERT_EQ(run_if_changed().exit_code, 0);
  EXPECT_EQ(fake_.calls(), "");  // nothing changed, nothing run
  ASSERT_EQ(run(env).exit_code, 0);  // without the option it registers again
  EXPECT_EQ(fake_.calls(), all_entries("user", "/workspace", true));
  fake_.clear();
  config_.mcp.servers = {config::McpServer::github};  // a different choice registers again
  write();
  ASSERT_EQ(run_if_changed().exit_code, 0);
  EXPECT_NE(fake_.calls().find("add-json\n-s\nuser\ngithub"), std::string::npos) << fake_.calls();
}

TEST_F(ProjectSetupMcp, InsideRemovesCatalogServersNoLongerChosen) {
  const test::TempDir config_dir;
  const std::map<std::string, std::string> env = {{"CLAUDE_CONTAINER", "demo-custom"},
                                                  {"CLAUDE_CONFIG_DIR", config_dir.path().string()}};
  ASSERT_EQ(run(env).exit_code, 0);  // all four
  config_.mcp.servers = {config::McpServer::github};
  write();
  fake_.clear();
  const auto result = run(env);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string calls = fake_.calls();
  for (const char* name : {"filesystem", "brave-search", "postgres"})
    EXPECT_NE(calls.find(std::string("claude\nmcp\nremove\n-s\nuser\n") + name + "\n"), std::string::npos) << name;
  EXPECT_EQ(calls.find("add-json\n-s\nuser\npostgres"), std::string::npos);
}

TEST_F(ProjectSetupMcp, HostPlacementRegistersForThisProjectAtLocalScope) {
  config_.mcp.placement = config::McpPlacement::host;
  write();
  const auto result = run(kSecrets);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(fake_.calls(), all_entries("local", fs::canonical(project_.path()).string()));
  // ...and the container gets nothing: the same script refuses there.
  fake_.clear();
  auto inside = run({{"CLAUDE_CONTAINER", "demo-custom"}});
  EXPECT_EQ(inside.exit_code, 1);
  EXPECT_NE(inside.err.find("not registered inside the container"), std::string::npos) << inside.err;
  EXPECT_EQ(fake_.calls(), "");
}

TEST_F(ProjectSetupMcp, ContainerPlacementRefusesToRegisterOnTheHost) {
  const auto result = run(kSecrets);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("run this script inside the container"), std::string::npos) << result.err;
  EXPECT_EQ(fake_.calls(), "");
}

TEST_F(ProjectSetupMcp, BothPlacementRegistersInsideAndOnTheHost) {
  config_.mcp.placement = config::McpPlacement::both;
  write();
  ASSERT_EQ(run(kSecrets).exit_code, 0);
  EXPECT_EQ(fake_.calls(), all_entries("local", fs::canonical(project_.path()).string()));
  fake_.clear();
  auto env = kSecrets;
  env["CLAUDE_CONTAINER"] = "demo-custom";
  ASSERT_EQ(run(env).exit_code, 0);
  EXPECT_EQ(fake_.calls(), all_entries("user", "/workspace"));
}

TEST_F(ProjectSetupMcp, WarnsAboutEachMissingSecret) {
  const auto result = run({{"CLAUDE_CONTAINER", "demo-custom"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* variable : {"BRAVE_API_KEY", "GITHUB_PERSONAL_ACCESS_TOKEN", "POSTGRES_URL"})
    EXPECT_NE(result.err.find(std::string("warning: ") + variable + " is not set"), std::string::npos) << result.err;
}

TEST_F(ProjectSetupMcp, FailsClearlyWithoutClaudeCode) {
  fs::remove(fake_.bin() / "claude");
  const auto result = run({{"CLAUDE_CONTAINER", "demo-custom"}});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("Claude Code ('claude') is not on PATH"), std::string::npos) << result.err;
  EXPECT_EQ(fake_.calls(), "");
}

TEST_F(ProjectSetupMcp, FailsWhenRegistrationFails) {
  fake_.add("claude", 1);
  const auto result = run({{"CLAUDE_CONTAINER", "demo-custom"}});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("claude mcp add-json failed for filesystem"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace cc::project
