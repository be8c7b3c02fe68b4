#pragma once
// The variables credentials.api puts into every process inside (DESIGN.md section 7):
//   gateway:  ANTHROPIC_BASE_URL at the gateway's loopback port inside, and a placeholder of
//             the kind the supervisor found (ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN);
//   shared:   the real credential, looked up when the command runs, in the matching variable;
//   separate: none of them (the container keeps its own login).
#include <map>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "config/container_env.hpp"
#include "net/credential_gateway.hpp"

namespace cc::integrations {

// `gateway_kind`: the kind the running container's gateway adds (from its run state).
// Throws cc::Error: shared without any credential (naming the three ways), gateway without a
// recorded kind (a container started by an older version: restart it).
std::map<std::string, std::string> credential_environment(const config::Config& config,
                                                          std::optional<net::CredentialKind> gateway_kind,
                                                          const config::EnvLookup& lookup);

// "http://127.0.0.1:3129": what ANTHROPIC_BASE_URL says inside under the gateway.
std::string gateway_base_url();

}  // namespace cc::integrations
