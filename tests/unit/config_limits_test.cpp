// Bounded input: every string, key, list and the file itself has a limit, and going over it
// is a usage error naming the key. The 50 KB crash of issue 7 came from std::regex recursing
// once per character; these inputs would overflow the stack if any such matcher came back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config_io.hpp"
#include "config/limits.hpp"
#include "config/text_shapes.hpp"
#include "util/error.hpp"

namespace cc::config {
namespace {

using nlohmann::json;

json valid_document() { return json::parse(serialize_config(preset(Mode::playground, "myapp-playground"))); }

std::string error_for(const json& document) {
  try {
    parse_config(document.dump(), "config.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

const std::string kMegabyte(1024 * 1024, 'a');

TEST(ConfigLimits, AMegabyteStringInAnyStringFieldIsRefusedNamingTheKey) {
  const std::vector<std::pair<std::string, std::function<void(json&)>>> cases = {
      {"env.FOO", [](json& d) { d["env"]["FOO"] = kMegabyte; }},
      {"env_file", [](json& d) { d["env_file"] = kMegabyte; }},
      {"credentials.ca_file", [](json& d) { d["credentials"]["ca_file"] = kMegabyte; }},
      {"credentials.upstream", [](json& d) { d["credentials"]["upstream"] = "https://" + kMegabyte; }},
      {"git.email", [](json& d) { d["git"]["email"] = kMegabyte + "@x"; }},
      {"git.name", [](json& d) { d["git"]["name"] = kMegabyte; }},
      {"agent.command", [](json& d) { d["agent"]["command"] = kMegabyte; }},
      {"network.allow", [](json& d) { d["network"]["allow"] = {kMegabyte}; }},
      {"name", [](json& d) { d["name"] = kMegabyte; }},
      {"mode", [](json& d) { d["mode"] = kMegabyte; }},
  };
  for (const auto& [key, change] : cases) {
    json d = valid_document();
    change(d);
    // The whole file is over its limit too; check the key is named when the file fits.
    std::string message = error_for(d);
    EXPECT_NE(message.find("bytes"), std::string::npos) << key << ": " << message;
    EXPECT_LT(message.size(), 600u) << key << ": the message must not carry the value";
  }
}

TEST(ConfigLimits, AStringJustOverItsLimitNamesTheKeyAndTheLimit) {
  json d = valid_document();
  d["env"]["FOO"] = std::string(kMaxEnvValueBytes + 1, 'a');
  EXPECT_EQ(error_for(d), "config.json: env.FOO: found a string of " + std::to_string(kMaxEnvValueBytes + 1) +
                              " bytes; allowed: at most " + std::to_string(kMaxEnvValueBytes) + " bytes; shorten it");
  d = valid_document();
  d["agent"]["command"] = std::string(kMaxStringBytes + 1, 'a');
  EXPECT_NE(error_for(d).find("agent.command: found a string of 4097 bytes"), std::string::npos);
}

TEST(ConfigLimits, ValuesAtTheirLimitStillParseWithoutCrashing) {
  // 32 KB of characters that every old pattern (URL, token, path) would have walked through.
  json d = valid_document();
  d["env"]["PLAIN"] = std::string(kMaxEnvValueBytes, 'x');
  d["env"]["URLISH"] = "http://" + std::string(kMaxEnvValueBytes - 20, 'u') + ":p";
  d["env"]["TOKENISH"] = "sk-an" + std::string(kMaxEnvValueBytes - 10, 't');
  EXPECT_NO_THROW(parse_config(d.dump(), "config.json"));
}

TEST(ConfigLimits, TooManyEntriesAndTooDeepNestingAreRefused) {
  json d = valid_document();
  for (std::size_t i = 0; i <= kMaxEnvEntries; ++i) d["env"]["V" + std::to_string(i)] = "1";
  EXPECT_NE(error_for(d).find("env: found an object of 257 entries"), std::string::npos);

  d = valid_document();
  d["network"]["allow"] = json::array();
  for (std::size_t i = 0; i <= kMaxDomainEntries; ++i) d["network"]["allow"].push_back("h" + std::to_string(i) + ".example.com");
  EXPECT_NE(error_for(d).find("network.allow: found an array of 1025 entries"), std::string::npos);

  std::string deep = "{\"schema_version\":1,\"name\":\"a\",\"mode\":\"custom\",\"x\":" + std::string(100000, '[') +
                     std::string(100000, ']') + "}";
  try {
    parse_config(deep, "config.json");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("levels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_config(std::string(kMaxConfigBytes + 1, ' '), "config.json"), Error);

  d = valid_document();
  d["env"][std::string(kMaxKeyBytes + 1, 'K')] = "1";
  EXPECT_NE(error_for(d).find("a key of 129 bytes"), std::string::npos);
}

TEST(TextShapes, MatchWhatThePatternsTheyReplaceMatched) {
  using namespace shapes;
  EXPECT_TRUE(is_domain_rule("example.com"));
  EXPECT_TRUE(is_domain_rule("*.example.com:443"));
  EXPECT_TRUE(is_domain_rule("example.com."));
  EXPECT_TRUE(is_domain_rule("[::1]:8080"));
  EXPECT_FALSE(is_domain_rule("example..com"));
  EXPECT_FALSE(is_domain_rule("*."));
  EXPECT_FALSE(is_domain_rule("a b"));
  EXPECT_FALSE(is_domain_rule("a:123456"));
  EXPECT_TRUE(is_https_url("https://api.anthropic.com"));
  EXPECT_TRUE(is_https_url("https://h/v1?x"));
  EXPECT_FALSE(is_https_url("https://u@h"));
  EXPECT_FALSE(is_https_url("http://h"));
  EXPECT_FALSE(is_https_url("https://h/a b"));
  EXPECT_TRUE(is_email("a@b"));
  EXPECT_FALSE(is_email("a@b@c"));
  EXPECT_FALSE(is_email("a @b"));
  EXPECT_TRUE(contains_token_shape("x sk-ant-abcdefgh"));
  EXPECT_TRUE(contains_token_shape("ghp_" + std::string(20, 'a')));
  EXPECT_TRUE(contains_token_shape("AKIA" + std::string(16, 'Z')));
  EXPECT_TRUE(contains_token_shape("-----BEGIN OPENSSH PRIVATE KEY-----"));
  EXPECT_FALSE(contains_token_shape("-----BEGIN PUBLIC KEY-----"));
  EXPECT_FALSE(contains_token_shape("sk-ant-short"));
  EXPECT_TRUE(contains_url_password("postgres://me:pw@db/x"));
  EXPECT_FALSE(contains_url_password("https://example.com/a:b@c"));
  EXPECT_FALSE(contains_url_password("://u:p@h"));
}

}  // namespace
}  // namespace cc::config
