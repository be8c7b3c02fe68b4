// Where the real Anthropic credential comes from: the host's variables, then the stored login.
#include "integrations/api_credential.hpp"

#include "integrations/credential_store.hpp"

namespace cc::integrations {

std::string describe_kind(net::CredentialKind kind) {
  return kind == net::CredentialKind::api_key ? "an API key" : "an OAuth token";
}

std::string describe_origin(const ApiCredential& credential) {
  switch (credential.origin) {
    case CredentialOrigin::environment_api_key: return "the host's ANTHROPIC_API_KEY";
    case CredentialOrigin::environment_oauth_token: return "the host's CLAUDE_CODE_OAUTH_TOKEN";
    case CredentialOrigin::stored_login: break;
  }
  return "claude-container login (" + credential.store.string() + ")";
}

std::optional<ApiCredential> find_api_credential(const config::EnvLookup& lookup) {
  // The variables are taken as the host has them: the user set them for Claude Code, whose own
  // reading decides what they mean; an empty one counts as unset.
  if (auto key = lookup("ANTHROPIC_API_KEY"); key && !key->empty()) {
    ApiCredential found;
    found.credential = {net::CredentialKind::api_key, std::move(*key)};
    found.origin = CredentialOrigin::environment_api_key;
    return found;
  }
  if (auto token = lookup("CLAUDE_CODE_OAUTH_TOKEN"); token && !token->empty()) {
    ApiCredential found;
    found.credential = {net::CredentialKind::oauth_token, std::move(*token)};
    found.origin = CredentialOrigin::environment_oauth_token;
    return found;
  }
  const std::filesystem::path store = credential_store_path(lookup);
  auto value = read_stored_credential(store);
  if (!value) return std::nullopt;
  ApiCredential found;
  found.credential = std::move(*value);
  found.origin = CredentialOrigin::stored_login;
  found.store = store;
  return found;
}

std::string no_credential_sentence(const std::string& what_failed) {
  return what_failed +
         ": no Anthropic credential was found for it; export ANTHROPIC_API_KEY (a Console API key), or export "
         "CLAUDE_CODE_OAUTH_TOKEN (a token from `claude setup-token`), or run `claude-container login` to store one, "
         "then try again.";
}

}  // namespace cc::integrations
