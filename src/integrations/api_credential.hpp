#pragma once
// Where the real Anthropic credential comes from (DESIGN.md section 7), in order: the host's
// ANTHROPIC_API_KEY, then its CLAUDE_CODE_OAUTH_TOKEN, then the one `claude-container login`
// stored (mode 0600 under the user's config directory). The gateway adds it outside the
// sandbox; `shared` passes it in; `separate` uses none of it.
#include <filesystem>
#include <optional>
#include <string>

#include "config/container_env.hpp"
#include "net/credential_gateway.hpp"

namespace cc::integrations {

enum class CredentialOrigin { environment_api_key, environment_oauth_token, stored_login };

struct ApiCredential {
  net::UpstreamCredential credential;
  CredentialOrigin origin = CredentialOrigin::environment_api_key;
  std::filesystem::path store;  // stored_login: the file it came from
};

// "an API key" / "an OAuth token".
std::string describe_kind(net::CredentialKind kind);

// "the host's ANTHROPIC_API_KEY", "claude-container login (~/.config/claude-container/credentials)", ...
std::string describe_origin(const ApiCredential& credential);

// $XDG_CONFIG_HOME/claude-container/credentials, else ~/.config/claude-container/credentials.
std::filesystem::path credential_store_path(const config::EnvLookup& lookup);

// The first credential found, or nothing. A stored file that is not the user's own, is
// readable by others or is malformed is an error naming it (never silently skipped).
std::optional<ApiCredential> find_api_credential(const config::EnvLookup& lookup);

// "<what_failed>: no Anthropic credential was found ...; export ANTHROPIC_API_KEY ..., or export
// CLAUDE_CODE_OAUTH_TOKEN (from `claude setup-token`), or run `claude-container login` ...": the
// three ways, in the order they are looked for.
std::string no_credential_sentence(const std::string& what_failed);

// The kind a value's shape says (sk-ant-api…: api key, sk-ant-oat…: OAuth token), or nothing
// when it looks like neither; `login` refuses those.
std::optional<net::CredentialKind> credential_kind_of(const std::string& value);

// What the sandbox sees instead: same prefix and length as the real kind, constant, no secret.
std::string placeholder_credential(net::CredentialKind kind);

}  // namespace cc::integrations
