#include <gtest/gtest.h>

#include "integrations/api_credential.hpp"

namespace cc::integrations {
namespace {

TEST(CredentialShape, KnowsApiKeysAndOauthTokensByPrefix) {
  EXPECT_EQ(credential_kind_of("sk-ant-api03-" + std::string(95, 'a')), net::CredentialKind::api_key);
  EXPECT_EQ(credential_kind_of("sk-ant-oat01-" + std::string(95, 'B')), net::CredentialKind::oauth_token);
}

TEST(CredentialShape, RefusesWhatIsNotACredential) {
  EXPECT_FALSE(credential_kind_of(""));
  EXPECT_FALSE(credential_kind_of("sk-ant-api03-short"));
  EXPECT_FALSE(credential_kind_of("sk-proj-" + std::string(95, 'a')));
  EXPECT_FALSE(credential_kind_of("sk-ant-api03-" + std::string(95, 'a') + "\n"));
  EXPECT_FALSE(credential_kind_of("sk-ant-api03-" + std::string(95, 'a') + " x"));
  EXPECT_FALSE(credential_kind_of("sk-ant-api03-" + std::string(600, 'a')));
}

TEST(CredentialShape, PlaceholderHasTheRealShapeOfItsKind) {
  for (auto kind : {net::CredentialKind::api_key, net::CredentialKind::oauth_token}) {
    const auto placeholder = placeholder_credential(kind);
    EXPECT_EQ(credential_kind_of(placeholder), kind) << placeholder;
    EXPECT_NE(placeholder.find("placeholder"), std::string::npos);
  }
}

}  // namespace
}  // namespace cc::integrations
