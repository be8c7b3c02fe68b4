#pragma once
// What every engine sets for a process inside, whatever its image supplies (PATH, HOME): the
// terminal type and locale of the caller, the proxy variables when the egress proxy serves the
// policy, the credential variables of credentials.api, the agent's and git's settings, then
// `env_file` and config `env`, then the request's own. Nothing else of the host's environment
// goes in: no tokens, no host SSH_AUTH_SOCK, no DISPLAY.
#include <map>
#include <optional>
#include <string>

#include "engine/engine.hpp"
#include "net/credential_gateway.hpp"

namespace cc::engine {

// `gateway_kind`: what the running container's credential gateway adds (its run state).
// Throws cc::Error (usage) when env_file cannot be read or has a malformed line, and cc::Error
// when credentials.api "shared" finds no credential to pass in.
std::map<std::string, std::string> session_environment(const ProjectContext& ctx, const ExecRequest& req, bool tty,
                                                       std::optional<net::CredentialKind> gateway_kind);

}  // namespace cc::engine
