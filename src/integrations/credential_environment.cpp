#include "integrations/credential_environment.hpp"

#include "integrations/api_credential.hpp"
#include "util/error.hpp"

namespace cc::integrations {

namespace {

const char* variable_for(net::CredentialKind kind) {
  return kind == net::CredentialKind::api_key ? "ANTHROPIC_API_KEY" : "CLAUDE_CODE_OAUTH_TOKEN";
}

}  // namespace

std::string gateway_base_url() { return "http://127.0.0.1:" + std::to_string(net::kGatewayPort); }

std::map<std::string, std::string> credential_environment(const config::Config& config,
                                                          std::optional<net::CredentialKind> gateway_kind,
                                                          const config::EnvLookup& lookup) {
  std::map<std::string, std::string> env;
  switch (config.credentials.api) {
    case config::ApiCredentials::separate:
      break;
    case config::ApiCredentials::gateway:
      if (!gateway_kind) {
        throw Error("the running container " + config.name +
                    " has no record of its credential gateway (it was started by an older version); run "
                    "`claude-container restart`.");
      }
      env["ANTHROPIC_BASE_URL"] = gateway_base_url();
      env[variable_for(*gateway_kind)] = placeholder_credential(*gateway_kind);
      break;
    case config::ApiCredentials::shared: {
      auto found = find_api_credential(lookup);
      if (!found) throw Error(no_credential_sentence("cannot pass your credential into " + config.name + " (credentials.api is \"shared\")"));
      env[variable_for(found->credential.kind)] = std::move(found->credential.value);
      break;
    }
  }
  return env;
}

}  // namespace cc::integrations
