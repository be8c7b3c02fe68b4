// Claude Code's first-run state in a container home the sandbox wrote before: merged, never
// lost; links, non-files and malformed JSON never followed or crashed on.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <gtest/gtest.h>

#include "integrations/agent_onboarding.hpp"
#include "integrations/api_credential.hpp"
#include "support/temp_dir.hpp"

namespace cc::integrations {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

void put(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string placeholder_tail() {
  auto value = placeholder_credential(net::CredentialKind::api_key);
  return value.substr(value.size() - 20);
}

class AgentOnboardingTest : public ::testing::Test {
 protected:
  test::TempDir tmp_{"cc-agent-onboarding"};
  fs::path home_ = tmp_ / "home";
  fs::path state_ = home_ / ".claude/.claude.json";
  config::Config cfg_;

  void SetUp() override { fs::create_directories(home_); }
  std::vector<std::string> prepare() { return prepare_agent_home(home_, cfg_, ::geteuid(), ::getegid()); }
  json state() { return json::parse(slurp(state_)); }
};

TEST_F(AgentOnboardingTest, FreshHomeOpensAtThePrompt) {
  EXPECT_TRUE(prepare().empty());
  auto j = state();
  EXPECT_EQ(j["hasCompletedOnboarding"], true);
  EXPECT_EQ(j["projects"]["/workspace"]["hasTrustDialogAccepted"], true);
  EXPECT_EQ(j["customApiKeyResponses"]["approved"], json::array({placeholder_tail()}));
  struct stat st {};
  ASSERT_EQ(::stat(state_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  ASSERT_EQ(::stat((home_ / ".claude").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  EXPECT_FALSE(fs::exists(home_ / ".claude/settings.json"));
  // Idempotent: a second start changes nothing.
  auto before = slurp(state_);
  EXPECT_TRUE(prepare().empty());
  EXPECT_EQ(slurp(state_), before);
}

TEST_F(AgentOnboardingTest, MergesIntoWhatIsThereAndKeepsTheUsersLogin) {
  cfg_.credentials.api = config::ApiCredentials::separate;
  put(state_, R"({"oauthAccount": {"emailAddress": "me@example.com"}, "hasCompletedOnboarding": false,
                 "projects": {"/workspace": {"allowedTools": ["Bash"]}, "/other": {"x": 1}},
                 "customApiKeyResponses": {"approved": ["keep-me"], "rejected": []}})");
  put(home_ / ".claude/.credentials.json", R"({"claudeAiOauth": {"accessToken": "t"}})");
  EXPECT_TRUE(prepare().empty());
  auto j = state();
  EXPECT_EQ(j["oauthAccount"]["emailAddress"], "me@example.com");
  EXPECT_EQ(j["hasCompletedOnboarding"], true);
  EXPECT_EQ(j["projects"]["/workspace"]["allowedTools"], json::array({"Bash"}));
  EXPECT_EQ(j["projects"]["/workspace"]["hasTrustDialogAccepted"], true);
  EXPECT_EQ(j["projects"]["/other"]["x"], 1);
  // `separate` has no placeholder to approve.
  EXPECT_EQ(j["customApiKeyResponses"]["approved"], json::array({"keep-me"}));
  EXPECT_EQ(slurp(home_ / ".claude/.credentials.json"), R"({"claudeAiOauth": {"accessToken": "t"}})");
}

TEST_F(AgentOnboardingTest, GatewayApprovesThePlaceholderOnceAndUnrejectsIt) {
  put(state_, R"({"customApiKeyResponses": {"approved": "not a list", "rejected": [")" + placeholder_tail() + R"("]}})");
  prepare();
  prepare();
  auto j = state();
  EXPECT_EQ(j["customApiKeyResponses"]["approved"], json::array({placeholder_tail()}));
  EXPECT_EQ(j["customApiKeyResponses"]["rejected"], json::array());
}

TEST_F(AgentOnboardingTest, SharedApprovesThePassedKeyByItsTailOnly) {
  cfg_.credentials.api = config::ApiCredentials::shared;
  const std::string key = "sk-ant-api03-" + std::string(75, 'a') + "LAST20CHARSofTheKey9";
  prepare_agent_home(home_, cfg_, ::geteuid(), ::getegid(), key);
  EXPECT_EQ(state()["customApiKeyResponses"]["approved"], json::array({"LAST20CHARSofTheKey9"}));
  EXPECT_EQ(slurp(state_).find(key.substr(0, 40)), std::string::npos);
}

TEST_F(AgentOnboardingTest, SkipPermissionsAcceptsBypassModeInSettings) {
  cfg_.agent.skip_permissions = true;
  put(home_ / ".claude/settings.json", R"({"model": "opus", "skipDangerousModePermissionPrompt": false})");
  prepare();
  auto settings = json::parse(slurp(home_ / ".claude/settings.json"));
  EXPECT_EQ(settings["skipDangerousModePermissionPrompt"], true);
  EXPECT_EQ(settings["model"], "opus");
}

TEST_F(AgentOnboardingTest, MalformedJsonIsMovedAsideNotLost) {
  for (const std::string& bad : {std::string("{\"half\": "), std::string("[1]"), std::string("\x01\xff")}) {
    put(state_, bad);
    auto notes = prepare();
    ASSERT_EQ(notes.size(), 1U) << bad;
    EXPECT_NE(notes[0].find("not a JSON object"), std::string::npos) << notes[0];
    EXPECT_EQ(state()["hasCompletedOnboarding"], true);
    bool kept = false;
    for (const auto& entry : fs::directory_iterator(home_ / ".claude")) {
      if (entry.path().filename().string().find(".claude-container-moved-") != std::string::npos &&
          slurp(entry.path()) == bad) {
        kept = true;
      }
    }
    EXPECT_TRUE(kept) << bad;
  }
}

TEST_F(AgentOnboardingTest, LinksPlantedInTheHomeAreNeverFollowed) {
  // .claude.json pointing at a host file: the link is moved aside, the file untouched.
  put(tmp_ / "host-secret", "{\"secret\": true}");
  fs::create_directories(home_ / ".claude");
  fs::create_symlink(tmp_ / "host-secret", state_);
  auto notes = prepare();
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_EQ(slurp(tmp_ / "host-secret"), "{\"secret\": true}");
  EXPECT_FALSE(fs::is_symlink(state_));
  EXPECT_EQ(state().count("secret"), 0U);

  // .claude itself a link to a host directory.
  fs::remove_all(home_ / ".claude");
  fs::create_directories(tmp_ / "host-dir");
  fs::create_symlink(tmp_ / "host-dir", home_ / ".claude");
  notes = prepare();
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_TRUE(fs::is_empty(tmp_ / "host-dir"));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(home_ / ".claude")));
  EXPECT_EQ(state()["hasCompletedOnboarding"], true);
}

TEST_F(AgentOnboardingTest, NonFilesAreMovedAsideAndHugeFilesLeftAlone) {
  fs::create_directories(state_);  // a directory where the file belongs
  EXPECT_EQ(prepare().size(), 1U);
  EXPECT_EQ(state()["hasCompletedOnboarding"], true);

  std::string huge = "{\"x\": \"" + std::string(kMaxAgentStateFile, 'a') + "\"}";
  put(state_, huge);
  auto notes = prepare();
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_NE(notes[0].find("left as it is"), std::string::npos);
  EXPECT_EQ(fs::file_size(state_), huge.size());
}

TEST_F(AgentOnboardingTest, FilesBelongToTheContainersUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving files to another id needs root";
  const uid_t uid = 4000123;
  const gid_t gid = 4000124;
  cfg_.agent.skip_permissions = true;
  prepare_agent_home(home_, cfg_, uid, gid);
  for (const auto& path : {home_ / ".claude", state_, home_ / ".claude/settings.json"}) {
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_uid, uid) << path;
    EXPECT_EQ(st.st_gid, gid) << path;
  }
}

}  // namespace
}  // namespace cc::integrations
