// The config model: enum spellings, presets, names, memory sizes and ${VAR} references.
#include <gtest/gtest.h>

#include <map>

#include "config/config.hpp"
#include "config/config_io.hpp"
#include "util/error.hpp"

namespace cc::config {
namespace {

TEST(ConfigEnums, EverySpellingParsesBackToItsValue) {
  for (auto v : {Mode::playground, Mode::development, Mode::custom}) EXPECT_EQ(parse_mode(to_string(v)), v);
  for (auto v : {EngineKind::automatic, EngineKind::native, EngineKind::apple, EngineKind::docker, EngineKind::podman})
    EXPECT_EQ(parse_engine(to_string(v)), v);
  for (auto v : {NetworkPolicy::none, NetworkPolicy::isolated, NetworkPolicy::development, NetworkPolicy::full})
    EXPECT_EQ(parse_network_policy(to_string(v)), v);
  for (auto v : {StorageType::volume, StorageType::bind, StorageType::hybrid}) EXPECT_EQ(parse_storage(to_string(v)), v);
  for (auto v : {ApiCredentials::gateway, ApiCredentials::separate, ApiCredentials::shared})
    EXPECT_EQ(parse_api_credentials(to_string(v)), v);
  for (auto v : {McpPlacement::container, McpPlacement::host, McpPlacement::both})
    EXPECT_EQ(parse_mcp_placement(to_string(v)), v);
  for (auto v : {McpServer::filesystem, McpServer::brave, McpServer::github, McpServer::postgres})
    EXPECT_EQ(parse_mcp_server(to_string(v)), v);
  for (auto v : {GitCredentials::none, GitCredentials::pat, GitCredentials::ssh})
    EXPECT_EQ(parse_git_credentials(to_string(v)), v);
}

TEST(ConfigEnums, JsonSpellingsAreTheDocumentedOnes) {
  EXPECT_EQ(to_string(EngineKind::automatic), "auto");
  EXPECT_EQ(allowed_values_network_policy(), "none | isolated | development | full");
  EXPECT_EQ(allowed_values_engine(), "auto | native | apple | docker | podman");
  EXPECT_EQ(allowed_values_image_base(), "host | debian | ubuntu | alpine");
  EXPECT_EQ(parse_engine("automatic"), std::nullopt);
  EXPECT_EQ(parse_mode("Playground"), std::nullopt);
  EXPECT_EQ(parse_mcp_server(""), std::nullopt);
}

TEST(ConfigPreset, PlaygroundIsIsolatedVolumeGateway) {
  const Config c = preset(Mode::playground, "p");
  EXPECT_EQ(c.name, "p");
  EXPECT_EQ(c.mode, Mode::playground);
  EXPECT_EQ(c.network.policy, NetworkPolicy::isolated);
  EXPECT_EQ(c.storage.type, StorageType::volume);
  EXPECT_EQ(c.credentials.api, ApiCredentials::gateway);
  EXPECT_FALSE(c.agent.skip_permissions);
  EXPECT_EQ(c.image.base, "host");
}

TEST(ConfigPreset, DevelopmentIsFullBindShared) {
  const Config c = preset(Mode::development, "d");
  EXPECT_EQ(c.mode, Mode::development);
  EXPECT_EQ(c.network.policy, NetworkPolicy::full);
  EXPECT_EQ(c.storage.type, StorageType::bind);
  EXPECT_EQ(c.credentials.api, ApiCredentials::shared);
}

TEST(ConfigPreset, CustomStartsFromTheSafeDefaults) {
  const Config c = preset(Mode::custom, "c");
  EXPECT_EQ(c.mode, Mode::custom);
  EXPECT_EQ(c.network.policy, NetworkPolicy::isolated);
  EXPECT_EQ(c.storage.type, StorageType::volume);
  EXPECT_EQ(c.credentials.api, ApiCredentials::gateway);
  EXPECT_EQ(c.resources.memory, 4ull << 30);
  EXPECT_EQ(c.resources.pids, 4096u);
}

TEST(ConfigName, PatternIsEnforced) {
  EXPECT_TRUE(valid_name("a"));
  EXPECT_TRUE(valid_name("myapp-playground"));
  EXPECT_TRUE(valid_name("0.x_y-z"));
  EXPECT_TRUE(valid_name(std::string(63, 'a')));
  EXPECT_FALSE(valid_name(std::string(64, 'a')));
  EXPECT_FALSE(valid_name(""));
  EXPECT_FALSE(valid_name("-a"));
  EXPECT_FALSE(valid_name(".a"));
  EXPECT_FALSE(valid_name("A"));
  EXPECT_FALSE(valid_name("a b"));
  EXPECT_FALSE(valid_name("a/b"));
}

TEST(ConfigName, DefaultNameIsSanitisedAndValid) {
  EXPECT_EQ(default_name("MyApp", Mode::playground), "myapp-playground");
  EXPECT_EQ(default_name("my app!", Mode::development), "my-app--development");
  EXPECT_EQ(default_name(".hidden", Mode::custom), "hidden-custom");
  EXPECT_EQ(default_name("---", Mode::custom), "project-custom");
  EXPECT_EQ(default_name("", Mode::custom), "project-custom");
  EXPECT_EQ(default_name("caf\xc3\xa9", Mode::custom), "caf---custom");
  const std::string long_name = default_name(std::string(100, 'x'), Mode::development);
  EXPECT_EQ(long_name.size(), 63u);
  EXPECT_TRUE(valid_name(long_name));
  EXPECT_EQ(long_name.substr(long_name.size() - 12), "-development");
}

TEST(ConfigMemory, AcceptsTheDocumentedSpellings) {
  const std::map<std::string, std::uint64_t> cases = {
      {"512m", 512ull << 20}, {"4g", 4ull << 30},     {"4G", 4ull << 30},       {"4GiB", 4ull << 30},
      {"4gb", 4ull << 30},    {"4GB", 4ull << 30},    {"1.5g", 3ull << 29},     {"0.5GiB", 1ull << 29},
      {"2048k", 2ull << 20},  {"1t", 1ull << 40},     {"1073741824", 1ull << 30}, {"100b", 100},
      {"1.25m", 1310720},     {"1.3m", 1363148},  // 1.3 * 2^20 = 1363148.8, rounded down
  };
  for (const auto& [text, bytes] : cases) EXPECT_EQ(parse_memory(text), bytes) << text;
}

TEST(ConfigMemory, RefusesWhatIsNotASize) {
  for (const char* text : {"", "g", "4x", "4 g", "-4g", "4.g", ".5g", "1.5", "1.5b", "4gig", "4e9", "0", "0g",
                           "99999999999999999999", "20000000t"})
    EXPECT_EQ(parse_memory(text), std::nullopt) << text;
}

TEST(ConfigMemory, FormatsInTheLargestWholeUnit) {
  EXPECT_EQ(format_memory(4ull << 30), "4g");
  EXPECT_EQ(format_memory(1536ull << 20), "1536m");
  EXPECT_EQ(format_memory(1ull << 40), "1t");
  EXPECT_EQ(format_memory(3ull << 10), "3k");
  EXPECT_EQ(format_memory(1000), "1000");
}

TEST(ConfigMemory, SetMemoryKeepsTheSpellingAndChecksTheMinimum) {
  Resources r;
  set_memory(r, "8GiB");
  EXPECT_EQ(r.memory, 8ull << 30);
  EXPECT_EQ(r.memory_text, "8GiB");
  try {
    set_memory(r, "32m");
    FAIL() << "32m accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
    EXPECT_NE(std::string(e.what()).find("at least 64m"), std::string::npos) << e.what();
  }
  EXPECT_THROW(set_memory(r, "much"), Error);
  EXPECT_EQ(r.memory_text, "8GiB");  // unchanged by the failures
}

TEST(ConfigMemory, SerializedConfigKeepsTheUsersSpelling) {
  for (const char* spelling : {"4GiB", "1.5g", "512m"}) {
    Config c = preset(Mode::custom, "m");
    set_memory(c.resources, spelling);
    const Config read = parse_config(serialize_config(c), "config.json");
    EXPECT_EQ(read.resources.memory_text, spelling);
  }
  // Plain bytes stay a JSON number.
  const Config bytes = parse_config(
      R"({"schema_version": 1, "name": "b", "mode": "custom", "resources": {"memory": 1073741824}})", "config.json");
  EXPECT_EQ(bytes.resources.memory, 1ull << 30);
  EXPECT_NE(serialize_config(bytes).find("\"memory\": 1073741824"), std::string::npos);
  // A size set without its text (memory_text stale) is written in the largest whole unit.
  Config stale = preset(Mode::custom, "s");
  stale.resources.memory = 3ull << 30;
  EXPECT_NE(serialize_config(stale).find("\"memory\": \"3g\""), std::string::npos);
}

TEST(ConfigEnv, ReferencesAreFoundAndExpanded) {
  EXPECT_EQ(env_references("${A}-x-${B_2}"), (std::vector<std::string>{"A", "B_2"}));
  EXPECT_TRUE(env_references("plain $HOME text").empty());  // only ${NAME} is a reference
  EXPECT_THROW(env_references("${"), Error);
  EXPECT_THROW(env_references("${}"), Error);
  EXPECT_THROW(env_references("${1X}"), Error);
  EXPECT_THROW(env_references("${A:-default}"), Error);

  auto lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "USER_NAME") return std::string("ada");
    return std::nullopt;
  };
  EXPECT_EQ(expand_env_references("hi ${USER_NAME}!", lookup), "hi ada!");
  try {
    expand_env_references("${MISSING}", lookup);
    FAIL() << "missing variable expanded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("MISSING is not set"), std::string::npos) << e.what();
  }
}

TEST(ConfigEnv, LiteralSecretsAreRecognised) {
  EXPECT_TRUE(literal_secret_reason("X", "sk-ant-api03-abcdefghijkl"));
  EXPECT_TRUE(literal_secret_reason("X", "github_pat_11ABCDEFG0123456789abcdef"));
  EXPECT_TRUE(literal_secret_reason("X", "AKIAABCDEFGHIJKLMNOP"));
  EXPECT_TRUE(literal_secret_reason("X", "-----BEGIN OPENSSH PRIVATE KEY-----"));
  EXPECT_TRUE(literal_secret_reason("API_KEY", "abc"));
  EXPECT_TRUE(literal_secret_reason("my_secret", "abc"));
  EXPECT_TRUE(literal_secret_reason("NPM_TOKENS", "abc"));
  EXPECT_TRUE(literal_secret_reason("GIT_PAT", "abc"));
  EXPECT_TRUE(literal_secret_reason("URL", "https://u:p@host/"));
  EXPECT_FALSE(literal_secret_reason("API_KEY", "${API_KEY}"));
  EXPECT_FALSE(literal_secret_reason("API_KEY", ""));
  EXPECT_FALSE(literal_secret_reason("PATH", "/usr/bin"));
  EXPECT_FALSE(literal_secret_reason("KEYBOARD_LAYOUT", "us"));
  EXPECT_FALSE(literal_secret_reason("URL", "https://u:${P}@host/"));
  EXPECT_FALSE(literal_secret_reason("URL", "https://user@host/"));
  EXPECT_FALSE(literal_secret_reason("SSH_KEY_PATH", "/home/me/.ssh/id_ed25519"));
  EXPECT_FALSE(literal_secret_reason("KEY_FILE", "./secrets/key.pem"));
  EXPECT_TRUE(literal_secret_reason("KEY", "/not a path"));
}

}  // namespace
}  // namespace cc::config
