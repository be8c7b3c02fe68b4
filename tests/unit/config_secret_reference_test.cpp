// Secrets are judged by where a value comes from: "HARMLESS": "${ANTHROPIC_API_KEY}" passes
// the API key as surely as "ANTHROPIC_API_KEY" does. One expander; a missing variable is an
// error naming it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config_io.hpp"
#include "config/container_env.hpp"
#include "project/security_level.hpp"
#include "project/templates/templates.hpp"
#include "util/error.hpp"

namespace cc::config {
namespace {

using nlohmann::json;

Config with_env(ApiCredentials api, std::map<std::string, std::string> env) {
  Config c = preset(Mode::custom, "demo");
  c.credentials.api = api;
  c.env = std::move(env);
  return c;
}

TEST(SecretReference, AReferenceToTheApiKeyUnderAnotherNameIsRefusedWithTheGateway) {
  for (ApiCredentials api : {ApiCredentials::gateway, ApiCredentials::separate}) {
    const Config c = with_env(api, {{"HARMLESS", "${ANTHROPIC_API_KEY}"}});
    try {
      parse_config(serialize_config(c), "config.json");
      FAIL() << "a committed config carried the API key in under another name";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::usage);
      const std::string message = e.what();
      EXPECT_NE(message.find("env.HARMLESS: found a reference to the host's ANTHROPIC_API_KEY, which credentials.api "
                             "controls"),
                std::string::npos)
          << message;
    }
  }
  // Inside a longer value, and for the other token names, too.
  EXPECT_THROW(parse_config(serialize_config(with_env(ApiCredentials::gateway, {{"X", "a-${CLAUDE_CODE_OAUTH_TOKEN}-b"}})),
                            "config.json"),
               Error);
}

TEST(SecretReference, WithSharedCredentialsTheRatingAndSpecSayTheKeyIsInside) {
  const Config c = with_env(ApiCredentials::shared, {{"HARMLESS", "${ANTHROPIC_API_KEY}"}});
  ASSERT_NO_THROW(parse_config(serialize_config(c), "config.json"));
  EXPECT_TRUE(env_passes_api_key(c));
  const auto level = project::assess_security(c);
  bool key_loss = false;
  for (const auto& loss : level.losses) key_loss = key_loss || loss.reason.find("API key") != std::string::npos;
  EXPECT_TRUE(key_loss) << "the rating must count a key passed in by reference";
  const std::string spec = project::render_container_spec(c);
  EXPECT_EQ(spec.find("API key: yours is not passed into the container"), std::string::npos) << spec;
  EXPECT_NE(spec.find("is put into the container's environment, where any process there can read it"), std::string::npos)
      << spec;
}

TEST(SecretReference, OtherHostSecretsByReferenceCostAStar) {
  const Config plain = preset(Mode::custom, "demo");
  const Config c = with_env(ApiCredentials::gateway, {{"HARMLESS", "${GITHUB_TOKEN}"}});
  EXPECT_EQ(env_secret_references(c), std::vector<std::string>{"GITHUB_TOKEN"});
  EXPECT_EQ(project::assess_security(c).stars, project::assess_security(plain).stars - 1);
}

TEST(OneExpander, AMissingVariableIsAnErrorNamingIt) {
  const Config c = with_env(ApiCredentials::gateway, {{"GREETING", "hi ${WHO}"}, {"PLAIN", "x"}});
  auto lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "WHO") return "you";
    return std::nullopt;
  };
  auto env = container_env(c, "/nonexistent", lookup);
  EXPECT_EQ(env.at("GREETING"), "hi you");
  EXPECT_EQ(env.at("PLAIN"), "x");
  try {
    container_env(with_env(ApiCredentials::gateway, {{"G", "${NOT_SET_ANYWHERE}"}}), "/nonexistent", lookup);
    FAIL() << "a missing variable became an empty string";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
    EXPECT_NE(std::string(e.what()).find("env.G: the environment variable NOT_SET_ANYWHERE is not set"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace cc::config
