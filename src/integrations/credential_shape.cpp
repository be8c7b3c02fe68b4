// The shapes of Anthropic credentials: what `login` accepts and what the sandbox sees instead.
#include <algorithm>
#include <cctype>

#include "integrations/api_credential.hpp"

namespace cc::integrations {

namespace {

constexpr const char* kApiKeyPrefix = "sk-ant-api";
constexpr const char* kOauthPrefix = "sk-ant-oat";
// Real values are ~108 characters; these bounds only reject what is plainly not a credential.
constexpr std::size_t kMinLength = 40;
constexpr std::size_t kMaxLength = 512;

bool credential_characters(const std::string& value) {
  return std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

}  // namespace

std::optional<net::CredentialKind> credential_kind_of(const std::string& value) {
  if (value.size() < kMinLength || value.size() > kMaxLength || !credential_characters(value)) return std::nullopt;
  if (value.rfind(kApiKeyPrefix, 0) == 0) return net::CredentialKind::api_key;
  if (value.rfind(kOauthPrefix, 0) == 0) return net::CredentialKind::oauth_token;
  return std::nullopt;
}

std::string placeholder_credential(net::CredentialKind kind) {
  // Shaped like the real thing (clients check prefixes), and plainly not a secret when seen.
  const std::string head = kind == net::CredentialKind::api_key ? "sk-ant-api03-" : "sk-ant-oat01-";
  std::string value = head + "claude-container-gateway-placeholder-";
  while (value.size() < 108) value += "x";
  return value;
}

}  // namespace cc::integrations
