// Where the real credential comes from (host variables first, then the stored login) and how
// the store guards its file: real files, modes and owners in a TempDir.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "integrations/api_credential.hpp"
#include "integrations/credential_environment.hpp"
#include "integrations/credential_store.hpp"
#include "support/required_feature.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"

namespace cc::integrations {
namespace {

namespace fs = std::filesystem;

const std::string kApiKey = "sk-ant-api03-" + std::string(95, 'K');
const std::string kOauthToken = "sk-ant-oat01-" + std::string(95, 'T');
const std::string kStoredKey = "sk-ant-api03-" + std::string(95, 'S');

class ApiCredentialSources : public ::testing::Test {
 protected:
  void SetUp() override { vars_["XDG_CONFIG_HOME"] = (dir_ / "config").string(); }

  config::EnvLookup lookup() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  fs::path store() const { return dir_ / "config" / "claude-container" / "credentials"; }

  std::string thrown_by_find() const {
    try {
      find_api_credential(lookup());
    } catch (const Error& error) {
      return error.what();
    }
    return "";
  }

  test::TempDir dir_{"cc-credential"};
  std::map<std::string, std::string> vars_;
};

TEST_F(ApiCredentialSources, StorePathFollowsXdgConfigHomeElseHome) {
  EXPECT_EQ(credential_store_path(lookup()), store());
  vars_.erase("XDG_CONFIG_HOME");
  vars_["HOME"] = (dir_ / "home").string();
  EXPECT_EQ(credential_store_path(lookup()), dir_ / "home" / ".config" / "claude-container" / "credentials");
  vars_["XDG_CONFIG_HOME"] = "relative/dir";  // the XDG spec says to ignore relative values
  EXPECT_EQ(credential_store_path(lookup()), dir_ / "home" / ".config" / "claude-container" / "credentials");
}

TEST_F(ApiCredentialSources, NothingAnywhereIsNothing) { EXPECT_FALSE(find_api_credential(lookup())); }

TEST_F(ApiCredentialSources, ApiKeyThenOauthTokenThenStoredLogin) {
  store_credential(store(), {net::CredentialKind::api_key, kStoredKey});
  auto stored = find_api_credential(lookup());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->origin, CredentialOrigin::stored_login);
  EXPECT_EQ(stored->credential.value, kStoredKey);
  EXPECT_EQ(describe_origin(*stored), "claude-container login (" + store().string() + ")");

  vars_["CLAUDE_CODE_OAUTH_TOKEN"] = kOauthToken;
  auto token = find_api_credential(lookup());
  ASSERT_TRUE(token);
  EXPECT_EQ(token->origin, CredentialOrigin::environment_oauth_token);
  EXPECT_EQ(token->credential.kind, net::CredentialKind::oauth_token);
  EXPECT_EQ(token->credential.value, kOauthToken);

  vars_["ANTHROPIC_API_KEY"] = kApiKey;
  auto key = find_api_credential(lookup());
  ASSERT_TRUE(key);
  EXPECT_EQ(key->origin, CredentialOrigin::environment_api_key);
  EXPECT_EQ(key->credential.kind, net::CredentialKind::api_key);
  EXPECT_EQ(key->credential.value, kApiKey);
  EXPECT_EQ(describe_origin(*key), "the host's ANTHROPIC_API_KEY");

  vars_["ANTHROPIC_API_KEY"] = "";  // empty counts as unset
  EXPECT_EQ(find_api_credential(lookup())->origin, CredentialOrigin::environment_oauth_token);
}

TEST_F(ApiCredentialSources, StoreIsPrivateAndLogoutRemovesIt) {
  store_credential(store(), {net::CredentialKind::oauth_token, kOauthToken});
  struct stat st {};
  ASSERT_EQ(::lstat(store().parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  ASSERT_EQ(::lstat(store().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  auto read = read_stored_credential(store());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->kind, net::CredentialKind::oauth_token);
  EXPECT_EQ(read->value, kOauthToken);
  // Replaced, not appended; no temporary file stays behind.
  store_credential(store(), {net::CredentialKind::api_key, kStoredKey});
  EXPECT_EQ(read_stored_credential(store())->value, kStoredKey);
  EXPECT_EQ(std::distance(fs::directory_iterator(store().parent_path()), fs::directory_iterator()), 1);

  EXPECT_TRUE(remove_stored_credential(store()));
  EXPECT_FALSE(fs::exists(store()));
  EXPECT_FALSE(remove_stored_credential(store()));
  EXPECT_FALSE(find_api_credential(lookup()));
}

TEST_F(ApiCredentialSources, ReadableByOthersIsAnErrorNamingFileAndFix) {
  store_credential(store(), {net::CredentialKind::api_key, kStoredKey});
  ASSERT_EQ(::chmod(store().c_str(), 0644), 0);
  std::string error = thrown_by_find();
  EXPECT_NE(error.find(store().string()), std::string::npos) << error;
  EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;

  ASSERT_EQ(::chmod(store().c_str(), 0600), 0);
  ASSERT_EQ(::chmod(store().parent_path().c_str(), 0755), 0);
  error = thrown_by_find();
  EXPECT_NE(error.find(store().parent_path().string()), std::string::npos) << error;
  EXPECT_NE(error.find("chmod 700"), std::string::npos) << error;
}

TEST_F(ApiCredentialSources, MalformedStoreIsAnErrorNotSkipped) {
  for (const std::string& content : {std::string("not a key\n"), kStoredKey + "\n" + kApiKey + "\n",
                                     std::string(10000, 'x'), std::string("")}) {
    store_credential(store(), {net::CredentialKind::api_key, kStoredKey});
    {
      std::ofstream out(store(), std::ios::trunc);
      out << content;
    }
    std::string error = thrown_by_find();
    EXPECT_NE(error.find(store().string()), std::string::npos) << error;
    EXPECT_NE(error.find("claude-container login"), std::string::npos) << error;
    EXPECT_EQ(error.find(kStoredKey), std::string::npos) << "an error must not print the value";
  }
  // The host's variable still comes first: a broken store does not stand in its way.
  vars_["ANTHROPIC_API_KEY"] = kApiKey;
  EXPECT_EQ(find_api_credential(lookup())->credential.value, kApiKey);
}

TEST_F(ApiCredentialSources, LinksAreNeverFollowed) {
  fs::create_directories(dir_ / "elsewhere");
  {
    std::ofstream(dir_ / "elsewhere" / "key") << kStoredKey << "\n";
  }
  ::chmod((dir_ / "elsewhere" / "key").c_str(), 0600);
  fs::create_directories(store().parent_path());
  ::chmod(store().parent_path().c_str(), 0700);
  fs::create_symlink(dir_ / "elsewhere" / "key", store());
  EXPECT_NE(thrown_by_find().find("symbolic link"), std::string::npos);
  EXPECT_THROW(store_credential(store(), {net::CredentialKind::api_key, kApiKey}), Error);
  fs::remove(store());
  fs::remove(store().parent_path());
  fs::create_directory_symlink(dir_ / "elsewhere", store().parent_path());
  EXPECT_NE(thrown_by_find().find("symbolic link"), std::string::npos);
}

TEST_F(ApiCredentialSources, AnotherOwnersFileOrDirectoryIsRefused) {
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root") << "changing a file's owner needs root";
  store_credential(store(), {net::CredentialKind::api_key, kStoredKey});
  ASSERT_EQ(::lchown(store().c_str(), 12345, 12345), 0);
  std::string error = thrown_by_find();
  EXPECT_NE(error.find("belongs to uid 12345"), std::string::npos) << error;
  EXPECT_NE(error.find(store().string()), std::string::npos) << error;
  ASSERT_EQ(::lchown(store().c_str(), 0, 0), 0);
  ASSERT_EQ(::lchown(store().parent_path().c_str(), 12345, 12345), 0);
  error = thrown_by_find();
  EXPECT_NE(error.find("belongs to uid 12345"), std::string::npos) << error;
  EXPECT_THROW(store_credential(store(), {net::CredentialKind::api_key, kApiKey}), Error);
}

TEST_F(ApiCredentialSources, RootIgnoresAnotherUsersConfigDirectory) {
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root") << "the sudo -E case needs root";
  // What `sudo -E` leaves: a user's XDG_CONFIG_HOME and HOME in root's environment.
  fs::create_directories(dir_ / "user" / ".config");
  for (const auto& p : {dir_ / "user", dir_ / "user" / ".config"}) ASSERT_EQ(::lchown(p.c_str(), 12345, 12345), 0);
  vars_["XDG_CONFIG_HOME"] = (dir_ / "user" / ".config").string();
  vars_["HOME"] = (dir_ / "root-home").string();  // root's own (the TempDir is root's)
  EXPECT_EQ(credential_store_path(lookup()), dir_ / "root-home" / ".config" / "claude-container" / "credentials");
  vars_["HOME"] = (dir_ / "user").string();
  const fs::path path = credential_store_path(lookup());
  EXPECT_EQ(path.string().find((dir_ / "user").string()), std::string::npos) << path;
  // Not made yet but beneath root's own directory: fine.
  vars_["XDG_CONFIG_HOME"] = (dir_ / "root-config" / "new").string();
  EXPECT_EQ(credential_store_path(lookup()), dir_ / "root-config" / "new" / "claude-container" / "credentials");
}

TEST_F(ApiCredentialSources, NoCredentialSentenceNamesTheThreeWays) {
  std::string sentence = no_credential_sentence("start failed");
  for (const char* way : {"ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "claude setup-token", "claude-container login"})
    EXPECT_NE(sentence.find(way), std::string::npos) << way;
}

// --- the environment the modes put inside ------------------------------------------------

class CredentialEnvironment : public ApiCredentialSources {
 protected:
  config::Config config_with(config::ApiCredentials api) const {
    config::Config config;
    config.name = "myapp";
    config.credentials.api = api;
    return config;
  }
};

TEST_F(CredentialEnvironment, GatewayGivesTheBaseUrlAndAPlaceholderOfTheKindFound) {
  vars_["ANTHROPIC_API_KEY"] = kApiKey;
  auto env = credential_environment(config_with(config::ApiCredentials::gateway), net::CredentialKind::api_key, lookup());
  EXPECT_EQ(env["ANTHROPIC_BASE_URL"], "http://127.0.0.1:3129");
  EXPECT_EQ(env["ANTHROPIC_API_KEY"], placeholder_credential(net::CredentialKind::api_key));
  EXPECT_EQ(env.count("CLAUDE_CODE_OAUTH_TOKEN"), 0u);
  auto oauth = credential_environment(config_with(config::ApiCredentials::gateway), net::CredentialKind::oauth_token,
                                      lookup());
  EXPECT_EQ(oauth["CLAUDE_CODE_OAUTH_TOKEN"], placeholder_credential(net::CredentialKind::oauth_token));
  EXPECT_EQ(oauth.count("ANTHROPIC_API_KEY"), 0u);
  for (const auto& [name, value] : oauth) EXPECT_EQ(value.find(kApiKey), std::string::npos) << name;
  EXPECT_THROW(credential_environment(config_with(config::ApiCredentials::gateway), std::nullopt, lookup()), Error);
}

TEST_F(CredentialEnvironment, SharedPassesTheRealValueAndSeparateNothing) {
  EXPECT_THROW(credential_environment(config_with(config::ApiCredentials::shared), std::nullopt, lookup()), Error);
  store_credential(store(), {net::CredentialKind::oauth_token, kOauthToken});
  auto env = credential_environment(config_with(config::ApiCredentials::shared), std::nullopt, lookup());
  EXPECT_EQ(env, (std::map<std::string, std::string>{{"CLAUDE_CODE_OAUTH_TOKEN", kOauthToken}}));
  vars_["ANTHROPIC_API_KEY"] = kApiKey;
  env = credential_environment(config_with(config::ApiCredentials::shared), std::nullopt, lookup());
  EXPECT_EQ(env, (std::map<std::string, std::string>{{"ANTHROPIC_API_KEY", kApiKey}}));
  EXPECT_TRUE(credential_environment(config_with(config::ApiCredentials::separate), std::nullopt, lookup()).empty());
}

}  // namespace
}  // namespace cc::integrations
